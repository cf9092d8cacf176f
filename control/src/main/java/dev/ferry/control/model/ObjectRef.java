package dev.ferry.control.model;

/**
 * Where a Kubernetes object came from and what it is called, as messages name it:
 * "services.yaml: Service default/web".
 *
 * @param file      the file the object was read from
 * @param kind      Service, EndpointSlice, ...
 * @param namespace the object's namespace ("default" when absent)
 * @param name      the object's name
 */
public record ObjectRef(String file, String kind, String namespace, String name) {
    /** "Service default/web". */
    public String describe() {
        return kind + " " + namespace + "/" + name;
    }

    /** "namespace/name". */
    public String key() {
        return namespace + "/" + name;
    }

    @Override
    public String toString() {
        return file + ": " + describe();
    }
}
