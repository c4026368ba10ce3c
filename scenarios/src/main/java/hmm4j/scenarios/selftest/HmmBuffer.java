package hmm4j.scenarios.selftest;

import hmm4j.kernel.mm.ShmemFile;

/**
 * {@code struct hmm_buffer} of hmm-tests.c: the range a test hands to the device and the
 * user buffer the device copies to or from. Allocated and freed by
 * {@link UserSpace#hmmBufferAlloc} and {@link UserSpace#hmmBufferFree}.
 *
 * <p>Fields keep the C names and meanings; addresses are user virtual addresses of the test
 * process. Only the test's tasks touch a buffer, one at a time (the controlled runtime), and
 * a race on {@link #ptr} between a test and its thread is part of the test, as in C.
 */
final class HmmBuffer {
    /** {@code void *ptr}: the range the device works on (0 once unmapped, as C's NULL). */
    long ptr;
    /** {@code void *mirror}: the user buffer of the command (C mallocs it; here anonymous memory). */
    long mirror;
    /** {@code unsigned long size}: bytes of the range. */
    long size;
    /** {@code int fd}: the file mapped at {@link #ptr}, or null for anonymous memory (C's -1). */
    ShmemFile fd;
    /** {@code uint64_t cpages}: the last successful command's page count. */
    long cpages;
    /** {@code uint64_t faults}: the last successful command's fault rounds. */
    long faults;
    /** Bytes the mirror was allocated with ({@code free} needs them; C's allocator remembers). */
    long mirrorSize;
}
