/**
 * The {@code use_mm()} users of Linus Torvalds' 2020 mail on {@code use_mm}, as
 * kernel threads that adopt a process address space with {@code kthread_use_mm}
 * ({@code kernel/kthread.c}; the users in {@code drivers/vhost/vhost.c},
 * {@code drivers/gpu/drm/i915/gvt/kvmgt.c}, {@code drivers/gpu/drm/amd/amdkfd}). Each
 * variant keeps the address space alive in its own way: vhost with {@code mmget_not_zero},
 * kvm/i915 with only {@code mmgrab} (the bug), amdkfd with a release notifier that stops the
 * worker. They use only the kernel model's public API.
 */
package hmm4j.drivers.usemm;
