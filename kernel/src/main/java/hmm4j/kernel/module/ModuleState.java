package hmm4j.kernel.module;

/**
 * {@code enum module_state}: the lifecycle of a module. The transitions are
 * COMING → LIVE (init succeeded) → GOING (delete_module) and COMING → GOING (init failed);
 * the module is freed after GOING.
 */
public enum ModuleState {
    /** {@code MODULE_STATE_COMING}: its init function is running. */
    COMING,
    /** {@code MODULE_STATE_LIVE}: loaded; {@code try_module_get} succeeds. */
    LIVE,
    /** {@code MODULE_STATE_GOING}: being removed; {@code try_module_get} fails. */
    GOING
}
