/**
 * The execution substrate: a {@link hmm4j.sim.Kernel} is one simulated machine (its runtime,
 * virtual clock, seeded randomness, trace and per-machine components), with user tasks and
 * kernel threads ({@link hmm4j.sim.Task}) on the controlled runtime (one task at a time,
 * virtual threads handed off at every scheduling point, a {@link hmm4j.sim.Strategy} choosing)
 * or the native one (platform threads). Every scheduling point names a typed
 * {@link hmm4j.sim.Op} (kind, target object, access), which strategies and replay compare;
 * its label is for reports only. It follows no single kernel file: it stands for the
 * scheduler (kernel/sched/) as far as the model needs one — which task runs, when a sleeping
 * task wakes, and that nothing runs forever.
 */
package hmm4j.sim;
