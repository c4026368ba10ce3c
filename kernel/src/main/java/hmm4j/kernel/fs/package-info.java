/**
 * Open files of processes ({@code fs/file.c}, {@code fs/file_table.c}): the descriptor table
 * of a task ({@code files_struct}), its duplication at {@code fork}, its sharing by threads,
 * {@code close} and {@code exit_files}; a {@code struct file} is anything counted by
 * {@link hmm4j.kernel.fs.FileRef} whose last {@code fput} runs its release. Character
 * devices ({@code fs/char_dev.c}, {@code fs/ioctl.c}, {@code mm/mmap.c}):
 * {@link hmm4j.kernel.fs.CharDevice} opens reference-counted {@link hmm4j.kernel.fs.File}s
 * with a driver's {@link hmm4j.kernel.fs.FileOperations} ({@code open}, {@code release},
 * {@code unlocked_ioctl}, {@code mmap}), pinning the owner module while open.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.fs;
