package hmm4j.scenarios.selftest;

import java.util.ArrayList;
import java.util.List;

/**
 * kselftest-style TAP 13 output: {@code TAP version 13}, the plan {@code 1..N}, one
 * {@code ok}/{@code not ok} line per test (a skip is {@code ok N name # SKIP reason}), the
 * diagnostics of a failure as {@code # } lines before its {@code not ok} line (where kselftest
 * prints them), and the totals line.
 */
public final class Tap {
    private Tap() {
    }

    /** The header: version and plan for {@code count} tests. */
    public static List<String> header(int count) {
        return List.of("TAP version 13", "1.." + count);
    }

    /** The lines of test number {@code number} (from 1). */
    public static List<String> lines(int number, SelftestResult r) {
        String name = r.test().name();
        return switch (r.status()) {
            case PASS -> List.of("ok " + number + " " + name);
            case SKIP -> List.of("ok " + number + " " + name + " # SKIP " + oneLine(r.reason()));
            case FAIL -> {
                List<String> out = new ArrayList<>();
                out.add("# " + r.test().testCase().name() + ": " + oneLine(r.reason()));
                for (String d : r.diagnostics()) {
                    d.lines().forEach(line -> out.add("#   " + line));
                }
                out.add("not ok " + number + " " + name);
                yield out;
            }
        };
    }

    /** {@code # Totals: pass:X fail:Y xfail:0 xpass:0 skip:Z error:0}. */
    public static String totals(List<SelftestResult> results) {
        long pass = results.stream().filter(r -> r.status() == SelftestResult.Status.PASS).count();
        long fail = results.stream().filter(r -> r.status() == SelftestResult.Status.FAIL).count();
        long skip = results.stream().filter(r -> r.status() == SelftestResult.Status.SKIP).count();
        return "# Totals: pass:" + pass + " fail:" + fail + " xfail:0 xpass:0 skip:" + skip + " error:0";
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').strip();
    }
}
