/**
 * Loadable modules ({@code kernel/module/main.c}, {@code include/linux/module.h}, Linux 6.x):
 * a module object with its state and reference count, {@code try_module_get} /
 * {@code module_put}, and {@code delete_module} running the driver's exit function and then
 * freeing the module, so that a callback still queued into the module's code afterwards is a
 * use-after-free.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.module;
