package dev.ferry.control.model;

/**
 * A Kubernetes object that manifest mode reads: every one has a kind, a namespace and a name,
 * which together identify it across reloads (the last good version of an object is found by
 * them when a new version is rejected).
 */
public sealed interface KubeObject permits Service, EndpointSlice, Endpoints, Pod {
    ObjectRef ref();

    /** "Service default/web": kind, namespace and name, the identity of the object across files and reloads. */
    default String identity() {
        return ref().describe();
    }
}
