package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.TraceEvent;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Which events of a run the timeline labels with text on the picture, and with what: the
 * ones a reader of a lifetime bug looks for first, so that a screenshot tells the story
 * without hovering.
 *
 * <ul>
 *   <li>a reference count tested on its way down ({@code atomic_dec_and_test},
 *       {@code refcount_dec_and_test}, {@code kref_put}): {@code mm_users → 0} when the trace
 *       shows it reached zero, i.e. the same task's next operation tears the same object down
 *       ({@code exit_mmap}, a free, a {@code ->release}: the kernel runs those only when the
 *       test returned true); else {@code mm_users −1}, because the trace records the
 *       operation and not the value it left;</li>
 *   <li>the teardown and lifetime calls themselves, by the function the operation names:
 *       {@code exit_mmap}, {@code mmput}, {@code mmdrop}, frees ({@code kfree},
 *       {@code memunmap_pages}), notifier register/unregister/get/put, interval notifier
 *       insert/remove, mirror register/unregister, {@code ->release}, invalidate start/end,
 *       the SRCU waits, {@code kthread_use_mm}/{@code kthread_unuse_mm};</li>
 *   <li>non-blockable sections (an operation that says {@code nonblock} or
 *       {@code !blockable}), and a task that threw;</li>
 *   <li>the event's {@linkplain TraceEvent#notes() notes}: what the model says the task
 *       started in the stretch after the event, where no operation of its own names it
 *       ({@code mmu_notifier_register}, {@code mmu_interval_notifier_remove},
 *       {@code invalidate_range_start UNMAP}, {@code non-blockable section},
 *       {@code hmm_mirror_unregister}, {@code hmm_free}, ...), each a label of its own.
 *       A note naming a teardown also makes a reference count tested on the same block
 *       read {@code → 0}.</li>
 * </ul>
 * Locks, plain reads and writes, spawns and exits are not labelled: they are the many
 * blocks between the key ones, and their tooltips still say what they are.
 */
@HiddenFromSites
final class KeyEvents {
    /** The longest label, in characters; a longer one is cut with an ellipsis. */
    static final int MAX_CHARS = 32;

    private static final Set<String> DOWN_TESTS = Set.of("atomic_dec_and_test", "refcount_dec_and_test", "kref_put",
            "atomic_long_dec_and_test");
    private static final Set<String> TEARDOWNS = Set.of("exit_mmap", "kfree", "kvfree", "free", "memunmap_pages",
            "__mmput", "__mmdrop", "hmm_free", "release");
    private static final List<String> KEY_NAMES = List.of("exit_mmap", "mmput", "mmput_async", "mmdrop", "kfree",
            "kvfree", "memunmap_pages", "mmu_notifier_register", "mmu_notifier_unregister",
            "mmu_notifier_unregister_no_release", "mmu_notifier_get", "mmu_notifier_put", "mmu_notifier_release",
            "mmu_interval_notifier_insert", "mmu_interval_notifier_remove", "hmm_mirror_register",
            "hmm_mirror_unregister", "hmm_range_register", "hmm_range_unregister", "invalidate_range_start",
            "invalidate_range_end", "synchronize_srcu", "srcu_barrier", "mmu_notifier_synchronize",
            "kthread_use_mm", "kthread_unuse_mm", "delete_module", "destroy_workqueue");

    private KeyEvents() {
    }

    /** The labels of event {@code slot}: its own (if it is a key event), then its notes. */
    static List<String> labels(List<TraceEvent> events, int slot) {
        List<String> notes = events.get(slot).notes();
        Optional<String> own = label(events, slot);
        if (notes.isEmpty()) {
            return own.map(List::of).orElse(List.of());
        }
        List<String> out = new java.util.ArrayList<>(notes.size() + 1);
        own.ifPresent(out::add);
        for (String n : notes) {
            out.add(cut(n));
        }
        return out;
    }

    /** The label of event {@code slot} of {@code events}, or empty when it is not a key event. */
    static Optional<String> label(List<TraceEvent> events, int slot) {
        TraceEvent e = events.get(slot);
        if (e.kind() == TraceEvent.Kind.THREW) {
            return Optional.of("threw");
        }
        if (e.kind() != TraceEvent.Kind.OPERATION) {
            return Optional.empty();
        }
        String text = e.op();
        String function = function(text);
        if (DOWN_TESTS.contains(function)) {
            String counter = argument(text);
            String field = counter.contains("->") ? counter.substring(counter.lastIndexOf("->") + 2) : counter;
            String object = counter.contains("->") ? counter.substring(0, counter.indexOf("->")) : counter;
            boolean zero = e.notes().stream().anyMatch(n -> TEARDOWNS.contains(function(n)))
                    || nextOfTask(events, slot).map(n -> tearsDown(n, object)).orElse(false);
            return Optional.of(cut(field + (zero ? " → 0" : " −1")));
        }
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.contains("nonblock") || lower.contains("!blockable") || lower.contains("non-block")) {
            return Optional.of(cut("non-blockable: " + function));
        }
        if (text.contains("->release")) {
            return Optional.of("->release");
        }
        for (String name : KEY_NAMES) {
            if (function.equals(name) || function.endsWith("_" + name) || function.endsWith("->" + name)) {
                String arg = argument(text);
                boolean withArg = name.startsWith("kfree") || name.equals("kvfree");
                return Optional.of(cut(withArg && !arg.isEmpty() ? name + "(" + arg + ")" : name));
            }
        }
        return Optional.empty();
    }

    /** The next event of the same task after {@code slot}. */
    private static Optional<TraceEvent> nextOfTask(List<TraceEvent> events, int slot) {
        int task = events.get(slot).taskId();
        for (int s = slot + 1; s < events.size(); s++) {
            if (events.get(s).taskId() == task) {
                return Optional.of(events.get(s));
            }
        }
        return Optional.empty();
    }

    /** True when {@code e} is a teardown operation of {@code object}. */
    private static boolean tearsDown(TraceEvent e, String object) {
        if (e.kind() != TraceEvent.Kind.OPERATION || object.isEmpty()) {
            return false;
        }
        String f = function(e.op());
        String arg = argument(e.op());
        boolean teardown = TEARDOWNS.contains(f) || f.endsWith("->release");
        return teardown && (arg.equals(object) || arg.startsWith(object + ",") || arg.startsWith(object + "->"));
    }

    /** The function an operation's text names: what comes before {@code (}, {@code :} or a space. */
    static String function(String text) {
        int end = text.length();
        for (char c : new char[] {'(', ':', ' '}) {
            int i = text.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        return text.substring(0, end);
    }

    /** The text between the first {@code (} and its {@code )}, or empty. */
    private static String argument(String text) {
        int open = text.indexOf('(');
        int close = text.indexOf(')', open + 1);
        return open < 0 || close < 0 ? "" : text.substring(open + 1, close).strip();
    }

    private static String cut(String s) {
        return s.length() <= MAX_CHARS ? s : s.substring(0, MAX_CHARS - 1) + "…";
    }
}
