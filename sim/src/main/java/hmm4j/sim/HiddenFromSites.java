package hmm4j.sim;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a class whose stack frames are left out of report sites
 * ({@link hmm4j.sim.failure.Site#frames()}) and trace events: the substrate (runtimes,
 * primitives, failures, reports) and the checkers mark every class of their main code, so
 * that a site points at the model, driver or test code that called them.
 *
 * <p>The rule is per class, not per package: a frame is hidden when the class that declares
 * its method (a lambda's method is declared by the class that contains it) or one of the
 * classes enclosing that class carries this annotation, or when it is a JDK frame
 * ({@code java.*}, {@code jdk.*}, {@code sun.*}). The annotation is not inherited: a model object extending
 * a hidden base class ({@code KObject}) keeps its own frames. Test classes are not marked,
 * so a test in the package of a checker appears in that checker's reports like driver code.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface HiddenFromSites {
}
