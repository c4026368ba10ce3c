package hmm4j.sim;

import hmm4j.sim.failure.Site;
import java.io.Serial;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Captures code sites for reports: the innermost frames that are not hidden by
 * {@link HiddenFromSites} (the substrate, the checkers) and are not JDK frames, so that a
 * report points at model, driver and test code.
 *
 * <p>Overview: capturing is split from resolving. A capture records just enough of the
 * calling thread's stack to name the site later; turning that into class names, files and
 * line numbers, dropping the hidden frames and formatting them happens when a report first
 * reads the site ({@link Site#lazy}, {@link TraceEvent#where()}). Resolving is where most
 * of the cost is, and most captured sites (held locks, allocations, references, trace
 * events) are never shown. Two captures, chosen by how many are kept:
 * <ul>
 *   <li>{@link #site}: the JVM's backtrace ({@link Throwable#fillInStackTrace}), the
 *       cheapest capture (a fraction of a microsecond for a task's shallow stack, two to
 *       three times less than a walk) but about 700 bytes while it is kept. Used for the
 *       sites of failures and checker records, which are few or short-lived.</li>
 *   <li>{@link #innermost}: a {@link StackWalker} walk to the first visible frame, kept
 *       unresolved (about 250 bytes per trace event with its event). Used for the site of
 *       every trace event, of which a run keeps one per step.</li>
 * </ul>
 * A {@link Kernel} built with {@code sites(false)} skips the per-step capture of trace
 * events; sites of failures and of checker records are always captured.
 *
 * <p>Frames of a backtrace are known by class name only; the class is looked up, when the
 * site is read, in the capturing thread's context class loader, then in the substrate's
 * own; a class found in neither is shown. Whether a class is hidden is computed once per
 * class.
 */
@HiddenFromSites
final class SiteCapture {
    /**
     * First batch of a walk: the substrate frames between a primitive's caller and the
     * capture (five for an {@code atomic_inc}) and the caller's own.
     */
    private static final int FIRST_BATCH = 8;
    private static final StackWalker WALKER =
            StackWalker.getInstance(Set.of(StackWalker.Option.RETAIN_CLASS_REFERENCE), FIRST_BATCH);
    private static final ClassValue<Boolean> HIDDEN = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            if (jdkClass(type.getName())) {
                return true;
            }
            for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
                if (c.isAnnotationPresent(HiddenFromSites.class)) {
                    return true;
                }
            }
            return false;
        }
    };

    /** Frames scanned past the innermost ones for the first frame outside the model. */
    private static final int CALLER_SCAN = 64;
    private static final ClassValue<Boolean> MODEL = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            Class<?> top = type;
            while (top.getEnclosingClass() != null) {
                top = top.getEnclosingClass();
            }
            Package p = top.getPackage();
            if (p == null || !p.isAnnotationPresent(ModelCode.class)) {
                return false;
            }
            try {
                Class<?> info = Class.forName(p.getName() + ".package-info", false, top.getClassLoader());
                return location(info).equals(location(top));
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }
    };

    private SiteCapture() {
    }

    private static String location(Class<?> c) {
        java.security.ProtectionDomain d = c.getProtectionDomain();
        java.security.CodeSource s = d == null ? null : d.getCodeSource();
        return s == null || s.getLocation() == null ? "" : s.getLocation().toString();
    }

    /** True if the class named {@code className} is model code ({@link ModelCode}); unknown classes are not. */
    static boolean model(String className, ClassLoader loader) {
        for (ClassLoader l : new ClassLoader[] {loader, SiteCapture.class.getClassLoader()}) {
            if (l == null) {
                continue;
            }
            try {
                return MODEL.get(Class.forName(className, false, l));
            } catch (ClassNotFoundException | LinkageError e) {
                // not visible from this loader: try the next one
            }
        }
        return false;
    }

    /** The backtrace of one capture and the class loader its frames are looked up in. */
    static final class Backtrace extends Throwable {
        @Serial
        private static final long serialVersionUID = 1L;
        private final transient ClassLoader loader;

        Backtrace() {
            super(null, null, false, true);
            this.loader = Thread.currentThread().getContextClassLoader();
        }

        /** The innermost {@code depth} visible frames, formatted; computed on every call. */
        List<String> frames(int depth) {
            return visibleFrames(getStackTrace(), depth, loader);
        }
    }

    /** True if frames of {@code type} are left out of sites. */
    static boolean hidden(Class<?> type) {
        return HIDDEN.get(type);
    }

    /**
     * True if frames of the class named {@code className} are left out of sites, for frames
     * known only by name; the class is looked up without being initialised in
     * {@code loader} (may be null), then in the substrate's loader. A class found in
     * neither is shown.
     */
    static boolean hidden(String className, ClassLoader loader) {
        if (jdkClass(className)) {
            return true;
        }
        for (ClassLoader l : new ClassLoader[] {loader, SiteCapture.class.getClassLoader()}) {
            if (l == null) {
                continue;
            }
            try {
                return hidden(Class.forName(className, false, l));
            } catch (ClassNotFoundException | LinkageError e) {
                // not visible from this loader: try the next one
            }
        }
        return false;
    }

    private static boolean jdkClass(String name) {
        return name.startsWith("java.") || name.startsWith("jdk.") || name.startsWith("sun.");
    }

    /**
     * The innermost visible frame of the calling thread, unresolved, or null: the
     * per-step capture of trace events. A walk, not a backtrace, because a trace keeps
     * every capture: a retained frame costs about a quarter of a retained backtrace.
     */
    static StackWalker.StackFrame innermost() {
        return WALKER.walk(s -> s.filter(f -> !hidden(f.getDeclaringClass())).findFirst()).orElse(null);
    }

    /** Records the calling thread's backtrace, to be resolved when read. */
    static Backtrace capture() {
        return new Backtrace();
    }

    /** A site of {@code task} at {@code step} with up to {@code depth} frames, resolved when read. */
    static Site site(String task, long step, int depth) {
        Backtrace b = capture();
        return Site.lazy(task, step, () -> b.frames(depth));
    }

    /**
     * A site of {@code task} (null outside any task) at {@code step} with its innermost
     * frames (the runtime's own failures: deadlocks, bounds), reaching the caller's line.
     */
    static Site site(Task task, long step) {
        return site(task == null ? "<main>" : task.name(), step, 6);
    }

    /**
     * The first {@code depth} frames of {@code stack} that are not hidden, formatted; when
     * all of them are model code ({@link ModelCode}), followed by the first visible frame
     * outside the model (the caller's line), if there is one within a few dozen frames.
     */
    static List<String> visibleFrames(List<StackTraceElement> stack, int depth, ClassLoader loader) {
        List<String> out = new ArrayList<>(Math.min(depth, stack.size()) + 1);
        boolean reachedCaller = false;
        int scanned = 0;
        for (StackTraceElement e : stack) {
            if (out.size() >= depth && (reachedCaller || ++scanned > CALLER_SCAN)) {
                break;
            }
            if (hidden(e.getClassName(), loader)) {
                continue;
            }
            boolean caller = !model(e.getClassName(), loader);
            if (out.size() < depth) {
                out.add(format(e));
                reachedCaller |= caller;
            } else if (caller) {
                out.add(format(e));
                reachedCaller = true;
            }
        }
        return out;
    }

    private static List<String> visibleFrames(StackTraceElement[] stack, int depth, ClassLoader loader) {
        return visibleFrames(List.of(stack), depth, loader);
    }

    /** {@link #format(StackTraceElement)} of an unresolved frame, or {@code ""} for null. */
    static String format(StackWalker.StackFrame frame) {
        return frame == null ? "" : format(frame.toStackTraceElement());
    }

    /** {@code Class.method(File.java:line)}, with the class's simple (binary) name. */
    static String format(StackTraceElement e) {
        String cls = e.getClassName();
        String where;
        if (e.isNativeMethod()) {
            where = "Native Method";
        } else if (e.getFileName() == null) {
            where = "Unknown Source";
        } else {
            where = e.getLineNumber() >= 0 ? e.getFileName() + ":" + e.getLineNumber() : e.getFileName();
        }
        return cls.substring(cls.lastIndexOf('.') + 1) + "." + e.getMethodName() + "(" + where + ")";
    }
}
