package dev.ferry.control.model;

import java.util.Objects;

/**
 * Where a Kubernetes object came from and what it is called, as messages name it:
 * "services.yaml: Service default/web". Equal when all four parts are.
 *
 * <p>A class rather than a record so that it can keep {@link #describe()} and {@link #key()}:
 * every reload looks each object up by them (merging files, matching slices to services,
 * last good versions), and an object of a file that did not change keeps its ref, so at
 * 10,000 services building the strings (and hashing them) again at each reload was a
 * measurable share of a one-service change.
 */
public final class ObjectRef {
    private final String file;
    private final String kind;
    private final String namespace;
    private final String name;
    private final String key;
    private final String description;

    /**
     * @param file      the file the object was read from
     * @param kind      Service, EndpointSlice, ...
     * @param namespace the object's namespace ("default" when absent)
     * @param name      the object's name
     */
    public ObjectRef(final String file, final String kind, final String namespace, final String name) {
        this.file = file;
        this.kind = kind;
        this.namespace = namespace;
        this.name = name;
        this.key = namespace + "/" + name;
        this.description = kind + " " + key;
    }

    public String file() {
        return file;
    }

    public String kind() {
        return kind;
    }

    public String namespace() {
        return namespace;
    }

    public String name() {
        return name;
    }

    /** "Service default/web". */
    public String describe() {
        return description;
    }

    /** "namespace/name". */
    public String key() {
        return key;
    }

    @Override
    public boolean equals(final Object other) {
        return this == other || other instanceof ObjectRef that && Objects.equals(file, that.file) && Objects.equals(kind, that.kind)
            && Objects.equals(namespace, that.namespace) && Objects.equals(name, that.name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(file, kind, namespace, name);
    }

    @Override
    public String toString() {
        return file + ": " + describe();
    }
}
