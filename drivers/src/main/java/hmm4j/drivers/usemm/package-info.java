/**
 * The {@code use_mm()} users of Linus Torvalds' 2020 mail on {@code use_mm}, as
 * kernel threads that adopt a process address space with {@code kthread_use_mm}
 * ({@code kernel/kthread.c}; the users in {@code drivers/vhost/vhost.c},
 * {@code drivers/gpu/drm/i915/gvt/kvmgt.c}, {@code drivers/gpu/drm/amd/amdkfd},
 * {@code drivers/usb/gadget/function/f_fs.c} with the endpoint API of
 * {@code drivers/usb/gadget/udc/core.c}). Each
 * variant keeps the address space alive in its own way: vhost with {@code mmget_not_zero},
 * kvm/i915 with only {@code mmgrab} (the bug), amdkfd with a release notifier that stops the
 * worker, f_fs with no reference at all but an AIO iocb that {@code exit_aio} waits for. They use only the kernel model's public API.
 */
package hmm4j.drivers.usemm;
