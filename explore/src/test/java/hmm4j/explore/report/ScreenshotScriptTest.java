package hmm4j.explore.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML report drawn by a real browser: {@code scripts/screenshot-report.sh} renders the
 * report of a use-after-free to a PNG with a headless Chromium, and the picture must show
 * the timeline (operation blocks in their blue, the failure mark in its red).
 *
 * <p>Runs only where a browser is installed: when the script answers {@code skipped: ...}
 * (no Chromium or Chrome on the PATH and no {@code HMM4J_BROWSER}) the test is aborted as an
 * unmet assumption, not failed. On Debian, {@code apt-get install chromium} provides one.
 */
class ScreenshotScriptTest {

    private static Path script() {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path dir = base; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("scripts/screenshot-report.sh");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static boolean near(int rgb, int target) {
        int dr = ((rgb >> 16) & 0xff) - ((target >> 16) & 0xff);
        int dg = ((rgb >> 8) & 0xff) - ((target >> 8) & 0xff);
        int db = (rgb & 0xff) - (target & 0xff);
        return dr * dr + dg * dg + db * db < 30 * 30;
    }

    private static int count(BufferedImage image, int colour) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if (near(image.getRGB(x, y), colour)) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void report_rendersInHeadlessChromium_withItsTimeline(@TempDir Path dir) throws IOException, InterruptedException {
        Path script = script();
        assumeTrue(script != null, "scripts/screenshot-report.sh not found from " + System.getProperty("basedir"));
        Path html = dir.resolve("uaf.html");
        Path png = dir.resolve("uaf.png");
        Files.writeString(html, HtmlReport.render(ReportRuns.useAfterFree(),
                RunHeader.titled("use-after-free").withReplayCommand("hmm4j replay uaf.json")), StandardCharsets.UTF_8);

        Process p = new ProcessBuilder("bash", script.toString(), html.toString(), png.toString(), "1200", "800")
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(150, TimeUnit.SECONDS), "the script finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeFalse(out.startsWith("skipped:"), out.trim());
        assertEquals(0, p.exitValue(), out);

        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(1200, image.getWidth());
        assertEquals(800, image.getHeight());
        assertTrue(count(image, 0x2563eb) > 500, "operation blocks are drawn in blue");
        assertTrue(count(image, 0xb91c1c) > 100, "the failure is marked in red");
    }
}
