package dev.ferry.control.tree;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One node of a parsed YAML or JSON tree together with its path from the document root, so
 * that every read that fails can say which field was wrong. A field that is absent or YAML/JSON
 * null counts as absent, as the Kubernetes API treats null as unset.
 *
 * <p>The path is spelled out only when asked for (an error, mostly): a 10,000-service manifest
 * set reads about a million fields, and building each one's path text took a good part of the
 * decoding time.
 */
public final class Field {
    /** The field this one is a child or element of; null for the root. */
    private final Field parent;
    /** The child's name, or null for a list element. */
    private final String name;
    /** Whether {@link #name} is written {@code [name]} rather than {@code .name}. */
    private final boolean keyed;
    /** The list element's index, or -1. */
    private final int index;
    private final JsonNode node;
    private String path;

    private Field(final Field parent, final String name, final boolean keyed, final int index, final JsonNode node) {
        this.parent = parent;
        this.name = name;
        this.keyed = keyed;
        this.index = index;
        this.node = node == null || node.isNull() ? MissingNode.getInstance() : node;
        if (parent == null) {
            this.path = "";
        }
    }

    /** The document root (path ""). */
    public static Field root(final JsonNode node) {
        return new Field(null, null, false, -1, node);
    }

    /** Where this field is from the document root: {@code spec.ports[0].port}, {@code metadata.labels[app]}. */
    public String path() {
        if (path == null) {
            final String above = parent.path();
            if (name == null) {
                path = above + "[" + index + "]";
            } else if (keyed) {
                path = above + "[" + name + "]";
            } else {
                path = above.isEmpty() ? name : above + "." + name;
            }
        }
        return path;
    }

    public JsonNode node() {
        return node;
    }

    public boolean isPresent() {
        return !node.isMissingNode();
    }

    /** The named child; absent when this field is absent or not an object. */
    public Field get(final String name) {
        return new Field(this, name, false, -1, node.isObject() ? node.get(name) : null);
    }

    /** A child whose name is not a plain identifier, written as {@code path[name]}. */
    public Field getKeyed(final String name) {
        return new Field(this, name, true, -1, node.isObject() ? node.get(name) : null);
    }

    public FieldException error(final String problem) {
        return new FieldException(path(), problem);
    }

    /** Required text; a number or a boolean is not text. */
    public String text() {
        if (!isPresent()) {
            throw error("is required");
        }
        if (!node.isTextual()) {
            throw error(describe() + " is not a string");
        }
        return node.textValue();
    }

    public String textOr(final String fallback) {
        return isPresent() ? text() : fallback;
    }

    /** Required integer that fits an {@code int}. */
    public int intValue() {
        if (!isPresent()) {
            throw error("is required");
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw error(describe() + " is not an integer");
        }
        return node.intValue();
    }

    public int intOr(final int fallback) {
        return isPresent() ? intValue() : fallback;
    }

    /** Required integer within {@code min..max}; {@code what} names the kind of value, as "a port". */
    public int intIn(final int min, final int max, final String what) {
        final int value = intValue();
        if (value < min || value > max) {
            throw error(value + " is not " + what + " (" + min + "-" + max + ")");
        }
        return value;
    }

    /** Required TCP/UDP/SCTP port number, 1..65535. */
    public int port() {
        return intIn(1, 65535, "a port");
    }

    public boolean boolOr(final boolean fallback) {
        if (!isPresent()) {
            return fallback;
        }
        if (!node.isBoolean()) {
            throw error(describe() + " is not a boolean (true or false)");
        }
        return node.booleanValue();
    }

    /** The elements of a list; absent means empty. */
    public List<Field> list() {
        if (!isPresent()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw error(describe() + " is not a list");
        }
        final List<Field> items = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            items.add(new Field(this, null, false, i, node.get(i)));
        }
        return items;
    }

    /** The elements of a list of strings; absent means empty. */
    public List<String> textList() {
        final List<String> values = new ArrayList<>();
        for (final Field item : list()) {
            values.add(item.text());
        }
        return values;
    }

    /** Requires an object (or absence) and returns its keys in document order. */
    public List<String> keys() {
        if (!isPresent()) {
            return List.of();
        }
        requireObject();
        final List<String> keys = new ArrayList<>();
        final Iterator<String> names = node.fieldNames();
        names.forEachRemaining(keys::add);
        return keys;
    }

    public void requireObject() {
        if (isPresent() && !node.isObject()) {
            throw error(describe() + " is not a mapping of keys to values");
        }
    }

    /** A map of string to string, such as metadata.labels; absent means empty. */
    public Map<String, String> textMap() {
        final Map<String, String> values = new LinkedHashMap<>();
        for (final String key : keys()) {
            values.put(key, getKeyed(key).text());
        }
        return values;
    }

    /** The value as it appears in messages: text quoted, other scalars as written, structures by kind. */
    public String describe() {
        if (!isPresent()) {
            return "(absent)";
        }
        if (node.isTextual()) {
            return "'" + node.textValue() + "'";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isObject()) {
            return "a mapping";
        }
        return node.asText();
    }
}
