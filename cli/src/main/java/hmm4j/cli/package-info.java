/**
 * The {@code hmm4j} command line (picocli): {@link hmm4j.cli.Main} and one subcommand per
 * capability. Commands parse arguments, call the layers below and print; they hold no
 * logic of their own.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li><b>Exit codes.</b> 0: success (for {@code check}: every verdict as expected);
 *       1: the command ran and found a mismatch, or failed with an error; 2: wrong
 *       arguments.</li>
 *   <li><b>Errors.</b> Exactly one line on standard error, starting {@code hmm4j: }. A
 *       stack trace only with the hidden {@code --debug} option or {@code HMM4J_DEBUG=1}.</li>
 *   <li><b>Output.</b> Tables are plain text, aligned, one header line and a rule
 *       ({@link hmm4j.cli.Table}).</li>
 * </ul>
 */
package hmm4j.cli;
