// The Lucene BM25 peer of `npm run bench:peers`: Anserini (what Pyserini's LuceneSearcher wraps: the very class
// io.anserini.search.SimpleSearcher) driven in one long-lived JVM, same line protocol as peers/peer_server.py:
// one JSON command per line on stdin, one JSON answer per line on stdout. Run from its fat jar in source-file mode
// (Java >= 21; no compile step):
//   $JAVA_HOME/bin/java -cp anserini-<v>-fatjar.jar peers/AnseriniPeer.java
// Indexing calls IndexCollection's own main (what the command line runs) in this JVM, timed around that call only.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.anserini.index.IndexCollection;
import io.anserini.search.ScoredDoc;
import io.anserini.search.SimpleSearcher;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

public class AnseriniPeer {
  static final ObjectMapper JSON = new ObjectMapper();
  static SimpleSearcher searcher;

  public static void main(String[] argv) throws Exception {
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err); // Anserini's and Lucene's own output must not reach the protocol
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isBlank()) continue;
      ObjectNode answer = JSON.createObjectNode();
      try {
        JsonNode msg = JSON.readTree(line);
        String op = msg.get("op").asText();
        switch (op) {
          case "anserini.versions" -> {
            answer.put("java", System.getProperty("java.version"));
            answer.put("lucene", org.apache.lucene.util.Version.LATEST.toString());
            answer.put("processors", Runtime.getRuntime().availableProcessors());
          }
          case "anserini.build" -> build(msg, answer);
          case "anserini.open" -> {
            if (searcher != null) searcher.close();
            searcher = new SimpleSearcher(msg.get("index").asText());
            searcher.set_bm25((float) msg.get("k1").asDouble(), (float) msg.get("b").asDouble());
          }
          case "anserini.search" -> search(msg, answer);
          default -> throw new IllegalArgumentException("unknown operation '" + op + "'");
        }
        answer.put("ok", true);
      } catch (Throwable error) {
        StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        answer.removeAll();
        answer.put("ok", false);
        answer.put("error", error.toString());
        answer.put("trace", trace.toString());
      }
      out.println(JSON.writeValueAsString(answer));
    }
  }

  static void build(JsonNode msg, ObjectNode answer) throws Exception {
    List<String> args = new ArrayList<>(List.of(
        "-collection", "BeirFlatCollection",
        "-input", msg.get("input").asText(),
        "-generator", "DefaultLuceneDocumentGenerator",
        "-index", msg.get("index").asText(),
        "-threads", msg.get("threads").asText()));
    for (JsonNode extra : msg.withArray("extra")) args.add(extra.asText());
    long t0 = System.nanoTime();
    IndexCollection.main(args.toArray(String[]::new));
    answer.put("ms", (System.nanoTime() - t0) / 1e6);
    long bytes;
    try (Stream<Path> files = Files.walk(Path.of(msg.get("index").asText()))) {
      bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    answer.put("bytes", bytes);
  }

  static void search(JsonNode msg, ObjectNode answer) throws Exception {
    int k = msg.get("k").asInt();
    boolean ids = msg.path("ids").asBoolean(false);
    ArrayNode times = answer.putArray("ms");
    ArrayNode runs = answer.putArray("docids");
    for (JsonNode q : msg.get("queries")) {
      long t0 = System.nanoTime();
      ScoredDoc[] hits = searcher.search(q.asText(), k);
      times.add((System.nanoTime() - t0) / 1e6);
      if (ids) {
        ArrayNode run = runs.addArray();
        for (ScoredDoc hit : hits) run.add(hit.docid);
      }
    }
  }
}
