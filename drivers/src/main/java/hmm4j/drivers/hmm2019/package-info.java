/**
 * Drivers of 2019 written against the 2019 HMM mirror API ({@code hmm4j.kernel.mm.hmm2019}),
 * each in its historical and its fixed form: the retry loop of Documentation/vm/hmm.rst
 * (v5.2 and v5.3 text), a nouveau-style SVM fault worker (drivers/gpu/drm/nouveau/nouveau_svm.c,
 * 5.3: the hmm.h compatibility helper and the 5.3-rc fix that drops mmap_sem on every error)
 * and an amdgpu-style userptr path (amdgpu_mn.c, amdgpu_ttm.c: the lookup without mmap_sem or
 * mmget of 5.3/5.4 and the 5.5 fix; the release-only unregister through a work item). They
 * follow the drivers' behaviour as the project's behavioural specification of the 2019 API
 * describes it; none of their code is copied.
 */
package hmm4j.drivers.hmm2019;
