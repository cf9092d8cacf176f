package dev.ferry.control.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Service;
import dev.ferry.control.tree.DocumentException;
import dev.ferry.control.tree.DocumentReader;
import dev.ferry.control.tree.Field;
import dev.ferry.control.tree.FieldException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads Kubernetes manifests from files and directories: multi-document YAML, JSON, and lists
 * ({@code kind: List} or typed lists such as ServiceList). A directory contributes its *.yaml,
 * *.yml and *.json files, sorted by name, not recursing. Each bad object is rejected with an
 * error naming the file, the object and the field, and each unparseable file with an error
 * naming the file and line; everything else still applies.
 *
 * <p>Kinds read: v1 Service and discovery.k8s.io/v1 EndpointSlice (IPv4). Other kinds are
 * ignored without error. An object defined twice keeps its first definition.
 */
public final class ManifestReader {
    static final String SERVICE = "Service";
    static final String ENDPOINT_SLICE = "EndpointSlice";

    private final List<Service> services = new ArrayList<>();
    private final List<EndpointSlice> slices = new ArrayList<>();
    private final List<ManifestError> errors = new ArrayList<>();
    private final Map<String, ObjectRef> seen = new HashMap<>();

    private ManifestReader() {
    }

    /** Reads every path (file or directory) in order. */
    public static ManifestSet read(final List<Path> paths) {
        final ManifestReader reader = new ManifestReader();
        for (final Path path : paths) {
            reader.readPath(path);
        }
        return new ManifestSet(reader.services, reader.slices, reader.errors);
    }

    private void readPath(final Path path) {
        if (!Files.isDirectory(path)) {
            if (!Files.exists(path)) {
                errors.add(new ManifestError(path.toString(), null, null, "no such file or directory"));
                return;
            }
            readFile(path);
            return;
        }
        final List<Path> files;
        try (Stream<Path> entries = Files.list(path)) {
            files = entries
                .filter(p -> Files.isRegularFile(p) && DocumentReader.isDocumentFile(p) && !p.getFileName().toString().startsWith("."))
                .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                .toList();
        } catch (final IOException e) {
            errors.add(new ManifestError(path.toString(), null, null, "cannot list the directory: " + e.getMessage()));
            return;
        }
        files.forEach(this::readFile);
    }

    private void readFile(final Path path) {
        final List<JsonNode> documents;
        try {
            documents = DocumentReader.readAll(path);
        } catch (final DocumentException e) {
            // The message already starts with the file name.
            final String message = e.getMessage();
            final String prefix = path + ": ";
            errors.add(new ManifestError(path.toString(), null, null,
                (message.startsWith(prefix) ? message.substring(prefix.length()) : message) + "; nothing in this file was applied"));
            return;
        }
        final String file = path.toString();
        for (int i = 0; i < documents.size(); i++) {
            readObject(file, "document " + (i + 1), Field.root(documents.get(i)), null, null);
        }
    }

    /**
     * Reads one object; {@code where} names it until its name is known. In a typed list (ServiceList)
     * items may omit kind and apiVersion, which then come from the list.
     */
    private void readObject(final String file, final String where, final Field root, final String defaultKind,
                            final String defaultApiVersion) {
        if (!root.node().isObject()) {
            errors.add(new ManifestError(file, where, null, "is " + root.describe() + ", not a Kubernetes object"));
            return;
        }
        final String kind;
        final String apiVersion;
        try {
            kind = defaultKind != null && !root.get("kind").isPresent() ? defaultKind : root.get("kind").text();
            apiVersion = defaultApiVersion != null && !root.get("apiVersion").isPresent()
                ? defaultApiVersion : root.get("apiVersion").textOr("");
        } catch (final FieldException e) {
            errors.add(new ManifestError(file, where, e.path(), e.problem()));
            return;
        }
        if (kind.endsWith("List") && root.get("items").isPresent()) {
            readList(file, where, kind, apiVersion, root);
            return;
        }
        final boolean service = SERVICE.equals(kind) && "v1".equals(apiVersion);
        final boolean slice = ENDPOINT_SLICE.equals(kind) && "discovery.k8s.io/v1".equals(apiVersion);
        if (!service && !slice) {
            return; // a kind Ferry does not read (yet): ignored by design
        }

        final ObjectRef ref;
        try {
            final Field metadata = root.get("metadata");
            metadata.requireObject();
            final String name = metadata.get("name").text();
            if (name.isEmpty()) {
                throw metadata.get("name").error("must not be empty");
            }
            final String namespace = metadata.get("namespace").textOr("");
            ref = new ObjectRef(file, kind, namespace.isEmpty() ? "default" : namespace, name);
        } catch (final FieldException e) {
            errors.add(new ManifestError(file, kind + " (" + where + ")", e.path(), e.problem()));
            return;
        }

        try {
            if (service) {
                final Service decoded = ServiceDecoder.decode(ref, root);
                if (isNew(ref)) {
                    services.add(decoded);
                }
            } else if ("IPv4".equals(EndpointSliceDecoder.addressType(root))) {
                final EndpointSlice decoded = EndpointSliceDecoder.decode(ref, root);
                if (isNew(ref)) {
                    slices.add(decoded);
                }
            }
            // IPv6 and FQDN slices are skipped: the dataplane is IPv4-only.
        } catch (final FieldException e) {
            errors.add(new ManifestError(file, ref.describe(), e.path(), e.problem()));
        }
    }

    /** Records a valid object; false (and an error) when one of that kind and name was read before. */
    private boolean isNew(final ObjectRef ref) {
        final ObjectRef first = seen.putIfAbsent(ref.kind() + " " + ref.key(), ref);
        if (first != null) {
            errors.add(new ManifestError(ref.file(), ref.describe(), null, "is defined again (first in " + first.file()
                + "); this definition is ignored"));
            return false;
        }
        return true;
    }

    private void readList(final String file, final String where, final String kind, final String apiVersion, final Field root) {
        final List<Field> items;
        try {
            items = root.get("items").list();
        } catch (final FieldException e) {
            errors.add(new ManifestError(file, kind + " (" + where + ")", e.path(), e.problem()));
            return;
        }
        // "List" items carry their own kind; "ServiceList" items may leave it to the list.
        final String itemKind = "List".equals(kind) ? null : kind.substring(0, kind.length() - "List".length());
        final String itemApiVersion = "List".equals(kind) ? null : apiVersion;
        for (int i = 0; i < items.size(); i++) {
            readObject(file, where + " " + items.get(i).path(), Field.root(items.get(i).node()), itemKind, itemApiVersion);
        }
    }

}
