/**
 * The model of the kernel: {@link hmm4j.kernel.KernelRules}, the rules the model enforces
 * (its part of the rule catalogue), above the packages of mm, notifiers, HMM, migration and
 * scheduling.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel;
