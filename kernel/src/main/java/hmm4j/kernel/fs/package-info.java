/**
 * Open files of processes ({@code fs/file.c}, {@code fs/file_table.c}): the descriptor table
 * of a task ({@code files_struct}), its duplication at {@code fork}, its sharing by threads,
 * {@code close} and {@code exit_files}; a {@code struct file} is anything counted by
 * {@link hmm4j.kernel.fs.FileRef} whose last {@code fput} runs its release.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.fs;
