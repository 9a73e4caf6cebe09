// Bench driver for Apache Flink MATCH_RECOGNIZE (the jars shipped in the PyPI
// wheel `apache-flink-libraries`, the jar half of `apache-flink`), compiled
// and run by benches/harness.py in the scratch folder on a local
// mini-cluster with parallelism 1.
//
// Usage: java -cp <flink lib jars>:. FlinkBench QUERY.sql STREAM.csv
//
// QUERY.sql holds statements separated by ';' on a line of their own: every
// statement but the last is run with executeSql (table definitions; the text
// ${CSV} is replaced by the stream's path), the last one is a query whose rows
// (one per match) are collected and counted. Prints one line:
// events=<rows of the file> matches=<n> seconds=<in-process s>.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

public final class FlinkBench {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: FlinkBench QUERY.sql STREAM.csv");
            System.exit(2);
        }
        String csv = Path.of(args[1]).toAbsolutePath().toString();
        List<String> statements = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.trim().equals(";")) {
                statements.add(cur.toString());
                cur.setLength(0);
            } else if (!line.trim().startsWith("--")) {
                cur.append(line.replace("${CSV}", csv)).append('\n');
            }
        }
        if (!cur.toString().isBlank()) {
            statements.add(cur.toString());
        }
        long start = System.nanoTime();
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", "1");
        TableEnvironment env = TableEnvironment.create(EnvironmentSettings.newInstance()
                .inStreamingMode().withConfiguration(conf).build());
        for (int i = 0; i + 1 < statements.size(); i++) {
            env.executeSql(statements.get(i));
        }
        long matches = 0;
        // DALAL_PEER_PRINT=1 prints each match row (for checking semantics).
        boolean print = System.getenv("DALAL_PEER_PRINT") != null;
        TableResult result = env.executeSql(statements.get(statements.size() - 1));
        try (CloseableIterator<Row> rows = result.collect()) {
            while (rows.hasNext()) {
                Row row = rows.next();
                matches++;
                if (print) {
                    System.err.println(row);
                }
            }
        }
        double secs = (System.nanoTime() - start) / 1e9;
        long events = -1; // the header line
        try (var lines = Files.lines(Path.of(csv))) {
            events += lines.count();
        }
        System.out.printf("events=%d matches=%d seconds=%.3f%n", events, matches, secs);
    }
}
