// Anserini/Lucene side of the BM25 diff, run from the Anserini fat jar in source-file mode. <out> is run.sh's output
// folder: it holds queries.json (from ours.ts) and scifact-corpus/corpus.jsonl (a symlink to SciFact's file).
//   java -cp anserini-1.5.0-fatjar.jar LuceneSide.java <out> index     IndexCollection, as peers/AnseriniPeer.java
//   java -cp ... LuceneSide.java <out> search                          -> <out>/lucene_run.json
//   java -cp ... LuceneSide.java <out> tokens                          -> <out>/lucene_tokens.json
//   java -cp ... LuceneSide.java <out> explain <qid> <docid> [...]     -> stdout
//   java -cp ... LuceneSide.java <out> analyze <text>                  -> stdout (DefaultEnglishAnalyzer tokens)
// search writes, per query, SimpleSearcher.search(q, 100) (what the bench reads: docid and the score after Anserini's
// ScoreTiesAdjusterReranker) and the raw Lucene float scores (top 1000) of the same query through IndexSearcher with
// the Sort SimpleSearcher uses (score, then the collection docid string). tokens writes the DefaultEnglishAnalyzer
// terms of every document (as BeirFlatCollection builds it: title + "\n" + text) and query, each document's stored
// norm byte and every term's df.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.anserini.analysis.AnalyzerUtils;
import io.anserini.analysis.DefaultEnglishAnalyzer;
import io.anserini.index.Constants;
import io.anserini.index.IndexCollection;
import io.anserini.search.ScoredDoc;
import io.anserini.search.SimpleSearcher;
import io.anserini.search.query.BagOfWordsQueryGenerator;
import java.io.File;
import java.nio.file.Path;
import java.util.*;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.index.*;
import org.apache.lucene.search.*;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.BytesRef;

public class LuceneSide {
  static String DIR; // run.sh's output folder
  static String INDEX;
  static final ObjectMapper JSON = new ObjectMapper();
  static final Sort TIES = new Sort(SortField.FIELD_SCORE, new SortField(Constants.ID, SortField.Type.STRING_VAL));

  public static void main(String[] args) throws Exception {
    if (args.length < 2) throw new IllegalArgumentException("Expected <out> <index|search|tokens|explain|analyze> ...");
    DIR = args[0];
    INDEX = DIR + "/anserini-index";
    String[] a = Arrays.copyOfRange(args, 1, args.length);
    switch (a[0]) {
      case "index" -> IndexCollection.main(new String[] {"-collection", "BeirFlatCollection", "-input",
          DIR + "/scifact-corpus", "-generator", "DefaultLuceneDocumentGenerator", "-index", INDEX, "-threads", "1"});
      case "search" -> search();
      case "explain" -> explain(a[1], Arrays.copyOfRange(a, 2, a.length));
      case "tokens" -> tokens();
      case "analyze" -> System.out.println(AnalyzerUtils.analyze(DefaultEnglishAnalyzer.newDefaultInstance(), a[1]));
      default -> throw new IllegalArgumentException("Unknown command " + a[0] + ": expected index, search, tokens, explain or analyze");
    }
  }

  static Map<String, String> queries() throws Exception {
    Map<String, String> q = new LinkedHashMap<>();
    for (JsonNode n : JSON.readTree(new File(DIR + "/queries.json"))) q.put(n.get("id").asText(), n.get("text").asText());
    return q;
  }

  static void search() throws Exception {
    SimpleSearcher ss = new SimpleSearcher(INDEX);
    ss.set_bm25(0.9f, 0.4f);
    IndexReader reader = DirectoryReader.open(FSDirectory.open(Path.of(INDEX)));
    IndexSearcher is = new IndexSearcher(reader);
    is.setSimilarity(new BM25Similarity(0.9f, 0.4f));
    Analyzer an = DefaultEnglishAnalyzer.newDefaultInstance();
    ObjectNode simple = JSON.createObjectNode(), raw = JSON.createObjectNode();
    for (var e : queries().entrySet()) {
      ArrayNode s = simple.putArray(e.getKey());
      for (ScoredDoc h : ss.search(e.getValue(), 100)) s.addArray().add(h.docid).add(h.score);
      Query q = new BagOfWordsQueryGenerator().buildQuery(Constants.CONTENTS, an, e.getValue());
      ArrayNode r = raw.putArray(e.getKey());
      for (ScoreDoc sd : is.search(q, 1000, TIES, true).scoreDocs)
        r.addArray().add(reader.storedFields().document(sd.doc).get(Constants.ID)).add(sd.score).add(sd.doc);
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("lucene", org.apache.lucene.util.Version.LATEST.toString());
    out.set("simple", simple);
    out.set("raw", raw);
    JSON.writeValue(new File(DIR + "/lucene_run.json"), out);
    System.err.println("lucene: wrote " + DIR + "/lucene_run.json (Lucene " + org.apache.lucene.util.Version.LATEST + ")");
  }

  static void explain(String qid, String[] docids) throws Exception {
    String text = queries().get(qid);
    Analyzer an = DefaultEnglishAnalyzer.newDefaultInstance();
    List<String> tokens = AnalyzerUtils.analyze(an, text);
    IndexReader reader = DirectoryReader.open(FSDirectory.open(Path.of(INDEX)));
    IndexSearcher is = new IndexSearcher(reader);
    is.setSimilarity(new BM25Similarity(0.9f, 0.4f));
    CollectionStatistics cs = is.collectionStatistics(Constants.CONTENTS);
    System.out.println("query " + qid + ": " + text);
    System.out.println("lucene tokens: " + tokens);
    System.out.printf("N(docCount)=%d maxDoc=%d sumTotalTermFreq=%d avgdl(float)=%s%n", cs.docCount(), reader.maxDoc(),
        cs.sumTotalTermFreq(), Float.toString((float) (cs.sumTotalTermFreq() / (double) cs.docCount())));
    for (String t : new TreeSet<>(tokens)) {
      int df = reader.docFreq(new Term(Constants.CONTENTS, t));
      double idf = Math.log(1 + (cs.docCount() - df + 0.5D) / (df + 0.5D));
      System.out.printf("  term %-16s df=%d idf(float)=%s%n", t, df, Float.toString((float) idf));
    }
    Query q = new BagOfWordsQueryGenerator().buildQuery(Constants.CONTENTS, an, text);
    System.out.println("lucene query: " + q);
    LeafReader leaf = reader.leaves().get(0).reader();
    System.out.println("segments: " + reader.leaves().size());
    for (String id : docids) {
      TopDocs td = is.search(new TermQuery(new Term(Constants.ID, id)), 1);
      int doc = td.scoreDocs[0].doc;
      LeafReaderContext ctx = reader.leaves().get(ReaderUtil.subIndex(doc, reader.leaves()));
      NumericDocValues norms = ctx.reader().getNormValues(Constants.CONTENTS);
      norms.advanceExact(doc - ctx.docBase);
      StringBuilder tf = new StringBuilder();
      for (String t : new TreeSet<>(tokens)) {
        PostingsEnum pe = ctx.reader().postings(new Term(Constants.CONTENTS, t));
        int f = 0;
        if (pe != null && pe.advance(doc - ctx.docBase) == doc - ctx.docBase) f = pe.freq();
        tf.append(t).append('=').append(f).append(' ');
      }
      Explanation ex = is.explain(q, doc);
      System.out.printf("doc %s lucene#%d normByte=%d tf: %s score(float)=%s%n", id, doc, norms.longValue(), tf,
          Float.toString(ex.getValue().floatValue()));
      System.out.println(ex.toString().replaceAll("(?m)^", "    "));
    }
  }

  static void tokens() throws Exception {
    Analyzer an = DefaultEnglishAnalyzer.newDefaultInstance();
    IndexReader reader = DirectoryReader.open(FSDirectory.open(Path.of(INDEX)));
    IndexSearcher is = new IndexSearcher(reader);
    ObjectNode docs = JSON.createObjectNode(), norms = JSON.createObjectNode(), qs = JSON.createObjectNode();
    try (var lines = java.nio.file.Files.lines(Path.of(DIR + "/scifact-corpus/corpus.jsonl"))) {
      for (String line : (Iterable<String>) lines::iterator) {
        if (line.isBlank()) continue;
        JsonNode j = JSON.readTree(line);
        String id = j.get("_id").asText();
        String contents = j.get("title").asText() + "\n" + j.get("text").asText(); // BeirFlatCollection.Document
        ArrayNode t = docs.putArray(id);
        for (String s : AnalyzerUtils.analyze(an, contents)) t.add(s);
        int doc = is.search(new TermQuery(new Term(Constants.ID, id)), 1).scoreDocs[0].doc;
        LeafReaderContext ctx = reader.leaves().get(ReaderUtil.subIndex(doc, reader.leaves()));
        NumericDocValues nv = ctx.reader().getNormValues(Constants.CONTENTS);
        norms.put(id, nv.advanceExact(doc - ctx.docBase) ? nv.longValue() : -1);
      }
    }
    for (var e : queries().entrySet()) {
      ArrayNode t = qs.putArray(e.getKey());
      for (String s : AnalyzerUtils.analyze(an, e.getValue())) t.add(s);
    }
    ObjectNode df = JSON.createObjectNode();
    for (LeafReaderContext ctx : reader.leaves()) {
      TermsEnum te = ctx.reader().terms(Constants.CONTENTS).iterator();
      for (BytesRef b = te.next(); b != null; b = te.next()) {
        String term = b.utf8ToString();
        df.put(term, df.path(term).asInt(0) + te.docFreq());
      }
    }
    ObjectNode out = JSON.createObjectNode();
    out.set("docs", docs);
    out.set("norms", norms);
    out.set("queries", qs);
    out.set("df", df);
    JSON.writeValue(new File(DIR + "/lucene_tokens.json"), out);
    System.err.println("lucene: wrote " + DIR + "/lucene_tokens.json");
  }
}
