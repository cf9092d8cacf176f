package dev.ferry.control.tree;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads every document of a YAML file (several separated by {@code ---}) or of a JSON file
 * (one or more concatenated values) into Jackson trees. Duplicate keys are an error rather
 * than a silent last-one-wins, because in a hand-written manifest they are always a mistake.
 * Empty documents are skipped.
 */
public final class DocumentReader {
    private static final ObjectMapper YAML = YAMLMapper.builder()
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .build();
    private static final ObjectMapper JSON = JsonMapper.builder()
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .build();

    private static final Pattern SNAKE_MARK = Pattern.compile("^\\s+in '[^']*', line (\\d+), column (\\d+):");

    private DocumentReader() {
    }

    /** True for the file names manifests are read from: *.yaml, *.yml, *.json. */
    public static boolean isDocumentFile(final Path file) {
        final String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
    }

    /** All non-empty documents of {@code file}, in order; JSON when the name ends in .json, else YAML. */
    public static List<JsonNode> readAll(final Path file) throws DocumentException {
        return readAll(file, null);
    }

    /**
     * As {@link #readAll(Path)}; a YAML file of at least {@link DocumentCache#MIN_BYTES} is taken
     * from {@code cache} when its content was parsed before, and remembered there when not
     * ({@code cache} may be null: no cache).
     */
    public static List<JsonNode> readAll(final Path file, final DocumentCache cache) throws DocumentException {
        final boolean json = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
        final ObjectMapper mapper = json ? JSON : YAML;
        final byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (final NoSuchFileException e) {
            throw new DocumentException(file + ": no such file", e);
        } catch (final IOException e) {
            throw new DocumentException(file + ": cannot read: " + e.getMessage(), e);
        }
        final boolean cached = cache != null && !json && bytes.length >= DocumentCache.MIN_BYTES;
        final String contentHash = cached ? DocumentCache.contentHash(bytes) : null;
        if (cached) {
            final List<JsonNode> known = cache.lookup(file, contentHash);
            if (known != null) {
                return known;
            }
        }
        final List<JsonNode> documents = new ArrayList<>();
        // Read value by value rather than with readValues(), which would unwrap a top-level array.
        try (JsonParser parser = mapper.createParser(bytes)) {
            while (parser.nextToken() != null) {
                final JsonNode document = mapper.readTree(parser);
                if (document != null && !document.isMissingNode() && !document.isNull()) {
                    documents.add(document);
                }
            }
        } catch (final JsonProcessingException e) {
            throw new DocumentException(file + ": " + describe(e, json), e);
        } catch (final IOException e) {
            throw new DocumentException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (cached) {
            cache.store(file, contentHash, documents);
        }
        return documents;
    }

    /**
     * "line 5, column 1: not valid YAML: found character ...". SnakeYAML's messages span several
     * lines (context, problem, " in 'reader', line 5, column 1:", an excerpt); its problem mark is
     * more precise than Jackson's location, so it wins when present.
     */
    private static String describe(final JsonProcessingException e, final boolean json) {
        final String original = String.valueOf(e.getOriginalMessage());
        String where = where(e.getLocation());
        final List<String> text = new ArrayList<>();
        for (final String line : original.split("\\R")) {
            final Matcher mark = SNAKE_MARK.matcher(line);
            if (mark.find()) {
                where = "line " + mark.group(1) + ", column " + mark.group(2) + ": ";
            } else if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                text.add(line.trim());
            }
        }
        return where + "not valid " + (json ? "JSON" : "YAML") + ": " + String.join("; ", text);
    }

    private static String where(final JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": ";
    }
}
