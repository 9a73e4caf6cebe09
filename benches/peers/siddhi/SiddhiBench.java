// Bench driver for Siddhi 5.1.7 (the jars shipped in the PyPI wheel
// `pysiddhi`), compiled and run by benches/harness.py in the scratch folder.
//
// Usage: java -cp <siddhi jars>:. SiddhiBench APP.siddhi STREAM.csv
//
// APP.siddhi defines `TradeStream (symbol string, price double, volume long)`
// and inserts its matches into the stream `Matches`. The driver reads the CSV
// written by `dalal gen`, sends each Trade row (type, ts, symbol, price,
// volume: the first five columns, which never hold a quoted comma) to
// TradeStream with the row's timestamp (the app runs in @app:playback mode,
// so `within` is event time), in file order and on the calling thread (no
// @async), counts the events arriving on Matches and prints one line:
// events=<rows read> fed=<events fed> matches=<n> seconds=<in-process s>.
import io.siddhi.core.SiddhiAppRuntime;
import io.siddhi.core.SiddhiManager;
import io.siddhi.core.event.Event;
import io.siddhi.core.stream.input.InputHandler;
import io.siddhi.core.stream.output.StreamCallback;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;

public final class SiddhiBench {
    private static long matches = 0;
    private static String day = "";
    private static long dayMillis = 0;

    // `dalal gen` writes YYYY-MM-DDTHH:MM:SS.mmmZ; Instant.parse showed up in
    // profiles of this driver, so the fixed layout is read by hand (the date
    // part once per day) and anything else falls back to Instant.parse.
    static long millis(String ts) {
        if (ts.length() != 24 || ts.charAt(10) != 'T' || ts.charAt(19) != '.'
                || ts.charAt(23) != 'Z') {
            return Instant.parse(ts).toEpochMilli();
        }
        if (!ts.regionMatches(0, day, 0, 10)) {
            day = ts.substring(0, 10);
            dayMillis = LocalDate.parse(day).toEpochDay() * 86_400_000L;
        }
        return dayMillis
                + (((ts.charAt(11) - '0') * 10 + (ts.charAt(12) - '0')) * 3_600_000L)
                + (((ts.charAt(14) - '0') * 10 + (ts.charAt(15) - '0')) * 60_000L)
                + (((ts.charAt(17) - '0') * 10 + (ts.charAt(18) - '0')) * 1_000L)
                + (ts.charAt(20) - '0') * 100 + (ts.charAt(21) - '0') * 10 + (ts.charAt(22) - '0');
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: SiddhiBench APP.siddhi STREAM.csv");
            System.exit(2);
        }
        String app = Files.readString(Path.of(args[0]));
        long start = System.nanoTime();
        SiddhiManager manager = new SiddhiManager();
        SiddhiAppRuntime runtime = manager.createSiddhiAppRuntime(app);
        runtime.addCallback("Matches", new StreamCallback() {
            @Override
            public void receive(Event[] events) {
                matches += events.length;
            }
        });
        runtime.start();
        InputHandler input = runtime.getInputHandler("TradeStream");
        long rows = 0;
        long fed = 0;
        Path csv = Path.of(args[1]);
        try (BufferedReader in = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            in.readLine(); // header
            String line;
            while ((line = in.readLine()) != null) {
                rows++;
                if (!line.startsWith("Trade,")) {
                    continue;
                }
                String[] c = line.split(",", 6);
                long ts = millis(c[1]);
                input.send(ts, new Object[] {c[2], Double.parseDouble(c[3]), Long.parseLong(c[4])});
                fed++;
            }
        }
        runtime.shutdown();
        manager.shutdown();
        double secs = (System.nanoTime() - start) / 1e9;
        System.out.printf("events=%d fed=%d matches=%d seconds=%.3f%n", rows, fed, matches, secs);
    }
}
