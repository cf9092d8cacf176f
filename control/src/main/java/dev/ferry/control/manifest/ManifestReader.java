package dev.ferry.control.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Endpoints;
import dev.ferry.control.model.KubeObject;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Pod;
import dev.ferry.control.model.Service;
import dev.ferry.control.tree.DocumentException;
import dev.ferry.control.tree.DocumentCache;
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
 * *.yml and *.json files, sorted by name, not recursing and skipping dot files. Each bad object
 * is rejected with an error naming the file, the object and the field, and each unparseable file
 * with an error naming the file and line; everything else still applies.
 *
 * <p>Kinds read: v1 Service, v1 Endpoints, v1 Pod and discovery.k8s.io/v1 EndpointSlice (IPv4).
 * Other kinds are ignored without error. An object defined twice keeps its first definition.
 *
 * <p>{@link #read} does it all at once; {@link #listFiles}, {@link #readFile} and {@link #merge}
 * are its steps, for a watcher that keeps the last good state of each file.
 */
public final class ManifestReader {
    static final String SERVICE = "Service";
    static final String ENDPOINT_SLICE = "EndpointSlice";
    static final String ENDPOINTS = "Endpoints";
    static final String POD = "Pod";

    private final String file;
    private final List<ManifestFile.Entry> entries = new ArrayList<>();

    private ManifestReader(final String file) {
        this.file = file;
    }

    /**
     * The files that {@code paths} name, in reading order.
     *
     * @param files  the manifest files found
     * @param errors paths that do not exist or cannot be listed
     */
    public record Listing(List<Path> files, List<ManifestError> errors) {
        public Listing {
            files = List.copyOf(files);
            errors = List.copyOf(errors);
        }
    }

    /** Reads every path (file or directory) in order. */
    public static ManifestSet read(final List<Path> paths) {
        final Listing listing = listFiles(paths);
        return merge(listing.errors(), listing.files().stream().map(ManifestReader::readFile).toList());
    }

    /** Each path in order: a file as itself, a directory as its manifest files sorted by name. */
    public static Listing listFiles(final List<Path> paths) {
        final List<Path> files = new ArrayList<>();
        final List<ManifestError> errors = new ArrayList<>();
        for (final Path path : paths) {
            if (!Files.isDirectory(path)) {
                if (Files.exists(path)) {
                    files.add(path);
                } else {
                    errors.add(new ManifestError(path.toString(), null, null, "no such file or directory"));
                }
                continue;
            }
            try (Stream<Path> entries = Files.list(path)) {
                entries.filter(ManifestReader::isManifestFile)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .forEach(files::add);
            } catch (final IOException e) {
                errors.add(new ManifestError(path.toString(), null, null, "cannot list the directory: " + e.getMessage()));
            }
        }
        return new Listing(files, errors);
    }

    /** True for the directory entries read as manifests: regular *.yaml, *.yml and *.json files, not dot files. */
    public static boolean isManifestFile(final Path path) {
        return Files.isRegularFile(path) && isManifestName(path.getFileName());
    }

    /** True for the names {@link #isManifestFile} reads (*.yaml, *.yml, *.json, not dot files), whether or not the file exists. */
    public static boolean isManifestName(final Path name) {
        return DocumentReader.isDocumentFile(name) && !name.toString().startsWith(".");
    }

    /** Parses and validates one file, object by object. Never throws: problems become entries or {@code unreadable}. */
    public static ManifestFile readFile(final Path path) {
        return readFile(path, null);
    }

    /** As {@link #readFile(Path)}, a large file's documents taken from (or kept in) {@code cache} (null: none). */
    public static ManifestFile readFile(final Path path, final DocumentCache cache) {
        final List<JsonNode> documents;
        try {
            documents = DocumentReader.readAll(path, cache);
        } catch (final DocumentException e) {
            // The message already starts with the file name.
            final String message = e.getMessage();
            final String prefix = path + ": ";
            return new ManifestFile(path.toString(), List.of(), new ManifestError(path.toString(), null, null,
                message.startsWith(prefix) ? message.substring(prefix.length()) : message));
        }
        final ManifestReader reader = new ManifestReader(path.toString());
        for (int i = 0; i < documents.size(); i++) {
            reader.readObject("document " + (i + 1), Field.root(documents.get(i)), null, null);
        }
        return new ManifestFile(path.toString(), reader.entries, null);
    }

    /**
     * Merges files in order into one set: the first definition of an object wins and later ones
     * are errors. {@code errors} (such as listing errors) come first in the result's errors.
     */
    public static ManifestSet merge(final List<ManifestError> errors, final List<ManifestFile> files) {
        final List<Service> services = new ArrayList<>();
        final List<EndpointSlice> slices = new ArrayList<>();
        final List<Endpoints> endpoints = new ArrayList<>();
        final List<Pod> pods = new ArrayList<>();
        final List<ManifestError> allErrors = new ArrayList<>(errors);
        int objects = 0;
        for (final ManifestFile file : files) {
            objects += file.entries().size();
        }
        final Map<String, ObjectRef> seen = HashMap.newHashMap(objects); // sized once: 20,000 objects are common

        for (final ManifestFile file : files) {
            if (file.unreadable() != null) {
                final ManifestError error = file.unreadable();
                allErrors.add(new ManifestError(error.file(), error.object(), error.field(), error.problem()
                    + (file.entries().isEmpty() ? "; nothing in this file was applied"
                    : "; the objects it held when it last parsed keep serving")));
            }
            for (final ManifestFile.Entry entry : file.entries()) {
                switch (entry) {
                    case ManifestFile.Rejected rejected -> allErrors.add(rejected.error());
                    case ManifestFile.Accepted accepted -> {
                        final KubeObject object = accepted.object();
                        final ObjectRef first = seen.putIfAbsent(object.identity(), object.ref());
                        if (first != null) {
                            allErrors.add(new ManifestError(object.ref().file(), object.identity(), null,
                                "is defined again (first in " + first.file() + "); this definition is ignored"));
                            continue;
                        }
                        switch (object) {
                            case Service service -> services.add(service);
                            case EndpointSlice slice -> slices.add(slice);
                            case Endpoints written -> endpoints.add(written);
                            case Pod pod -> pods.add(pod);
                        }
                    }
                }
            }
        }
        return new ManifestSet(services, slices, endpoints, pods, allErrors);
    }

    /**
     * Reads one object; {@code where} names it until its name is known. In a typed list (ServiceList)
     * items may omit kind and apiVersion, which then come from the list.
     */
    private void readObject(final String where, final Field root, final String defaultKind, final String defaultApiVersion) {
        if (!root.node().isObject()) {
            reject(null, where, null, "is " + root.describe() + ", not a Kubernetes object");
            return;
        }
        final String kind;
        final String apiVersion;
        try {
            kind = defaultKind != null && !root.get("kind").isPresent() ? defaultKind : root.get("kind").text();
            apiVersion = defaultApiVersion != null && !root.get("apiVersion").isPresent()
                ? defaultApiVersion : root.get("apiVersion").textOr("");
        } catch (final FieldException e) {
            reject(null, where, e.path(), e.problem());
            return;
        }
        if (kind.endsWith("List") && root.get("items").isPresent()) {
            readList(where, kind, apiVersion, root);
            return;
        }
        final boolean core = "v1".equals(apiVersion);
        final boolean read = core && (SERVICE.equals(kind) || ENDPOINTS.equals(kind) || POD.equals(kind))
            || ENDPOINT_SLICE.equals(kind) && "discovery.k8s.io/v1".equals(apiVersion);
        if (!read) {
            return; // a kind Ferry does not read (yet): ignored by design
        }

        final ObjectRef ref;
        try {
            final Field metadata = root.get("metadata");
            metadata.requireObject();
            final Field nameField = metadata.get("name");
            final String name = nameField.text();
            if (name.isEmpty()) {
                throw nameField.error("must not be empty");
            }
            final Field namespaceField = metadata.get("namespace");
            final String namespace = namespaceField.textOr("");
            ref = new ObjectRef(file, kind, namespace.isEmpty() ? "default" : namespace, name);
        } catch (final FieldException e) {
            reject(null, kind + " (" + where + ")", e.path(), e.problem());
            return;
        }

        try {
            final Field metadata = root.get("metadata");
            if (metadata.get("namespace").isPresent()) {
                Names.checkNamespace(metadata.get("namespace"), ref.namespace());
            }
            Names.checkObjectName(metadata.get("name"), kind, ref.name());
            final KubeObject object = switch (kind) {
                case SERVICE -> ServiceDecoder.decode(ref, root);
                case ENDPOINTS -> EndpointsDecoder.decode(ref, root);
                case POD -> PodDecoder.decode(ref, root);
                default -> "IPv4".equals(EndpointSliceDecoder.addressType(root)) ? EndpointSliceDecoder.decode(ref, root) : null;
            };
            // IPv6 and FQDN slices are skipped: the dataplane is IPv4-only.
            if (object != null) {
                entries.add(new ManifestFile.Accepted(object));
            }
        } catch (final FieldException e) {
            reject(ref, ref.describe(), e.path(), e.problem());
        }
    }

    private void reject(final ObjectRef ref, final String object, final String field, final String problem) {
        entries.add(new ManifestFile.Rejected(ref, new ManifestError(file, object, field, problem)));
    }

    private void readList(final String where, final String kind, final String apiVersion, final Field root) {
        final List<Field> items;
        try {
            items = root.get("items").list();
        } catch (final FieldException e) {
            reject(null, kind + " (" + where + ")", e.path(), e.problem());
            return;
        }
        // "List" items carry their own kind; "ServiceList" items may leave it to the list.
        final String itemKind = "List".equals(kind) ? null : kind.substring(0, kind.length() - "List".length());
        final String itemApiVersion = "List".equals(kind) ? null : apiVersion;
        for (int i = 0; i < items.size(); i++) {
            readObject(where + " " + items.get(i).path(), Field.root(items.get(i).node()), itemKind, itemApiVersion);
        }
    }
}
