package dev.ferry.control.model;

/** spec.externalTrafficPolicy and spec.internalTrafficPolicy. */
public enum TrafficPolicy {
    Cluster,
    Local
}
