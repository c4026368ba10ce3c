/**
 * The {@code hmm4j} command line (picocli): {@link hmm4j.cli.Main} and one subcommand per
 * capability. Commands parse arguments, call the layers below and print; they hold no
 * logic of their own.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li><b>Exit codes</b> ({@link hmm4j.cli.ExitCodes}, written into every command's
 *       {@code --help} by {@link hmm4j.cli.Main#configure}): 0 clean; 1 a failure found (a
 *       mismatch, a failing run, an incomplete shard set) or hmm4j failed; 2 bad input or an
 *       unusable file, nothing ran; 4 nothing ran (all selected scenarios pending, all
 *       selected tests skipped).</li>
 *   <li><b>Options</b> are checked before any work ({@link hmm4j.cli.Options}), and named in
 *       the message ({@code --max-steps must be at least 1 (got 0)}), never a Java class or
 *       an internal field name.</li>
 *   <li><b>Errors.</b> Exactly one line on standard error, starting {@code hmm4j: }. A
 *       stack trace, for bad input too, only with the hidden {@code --debug} option or
 *       {@code HMM4J_DEBUG=1}.</li>
 *   <li><b>Printed commands</b> (replay, merge) start with the tool as the user ran it:
 *       {@code HMM4J_COMMAND}, set by the {@code hmm4j} launcher, else {@code hmm4j}.</li>
 *   <li><b>Output.</b> Tables are plain text, aligned, one header line and a rule
 *       ({@link hmm4j.cli.Table}).</li>
 * </ul>
 */
package hmm4j.cli;
