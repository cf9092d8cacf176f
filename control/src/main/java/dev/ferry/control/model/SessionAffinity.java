package dev.ferry.control.model;

/** spec.sessionAffinity. */
public enum SessionAffinity {
    None,
    ClientIP
}
