package hmm4j.sim;

import hmm4j.sim.failure.Site;
import java.util.List;

/**
 * Captures code sites for reports: the innermost frames outside the substrate, the
 * checkers and the JDK, so that a report points at model and driver code.
 */
final class SiteCapture {
    private static final StackWalker WALKER = StackWalker.getInstance();

    private SiteCapture() {
    }

    static boolean infrastructure(String className) {
        return className.startsWith("hmm4j.sim.") || className.startsWith("hmm4j.check.")
                || className.startsWith("java.") || className.startsWith("jdk.")
                || className.startsWith("sun.");
    }

    static List<String> frames(int depth) {
        return WALKER.walk(s -> s.filter(f -> !infrastructure(f.getClassName()))
                .limit(depth)
                .map(SiteCapture::format)
                .toList());
    }

    static String format(StackWalker.StackFrame f) {
        String cls = f.getClassName();
        String simple = cls.substring(cls.lastIndexOf('.') + 1);
        return simple + "." + f.getMethodName() + "(" + f.getFileName() + ":" + f.getLineNumber() + ")";
    }

    static Site site(Task task, long step, int depth) {
        return new Site(task == null ? "<main>" : task.name(), step, frames(depth));
    }
}
