package hmm4j.sim;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a package as model code: the kernel model's main classes. A report site whose
 * innermost frames are all model code is extended to the first frame outside it, the
 * caller's own line (a driver's, a scenario's, a test's), as a kernel backtrace reaches the
 * driver that called in; the frames in between are left out.
 *
 * <p>The mark is on the package ({@code package-info.java}) and covers only the classes
 * from the same code source as that file, so test classes compiled into the same package
 * from a test directory are not model code.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PACKAGE)
@HiddenFromSites
public @interface ModelCode {
}
