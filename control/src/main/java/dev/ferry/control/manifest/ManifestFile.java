package dev.ferry.control.manifest;

import dev.ferry.control.model.KubeObject;
import dev.ferry.control.model.ObjectRef;

import java.util.List;

/**
 * What one manifest file held, object by object in document order: each object read is either
 * accepted or rejected with its error. A file that could not be parsed at all has no entries
 * and an {@code unreadable} error naming the line. Kept per file so that a watcher can let a
 * file that stopped parsing keep contributing what it held when it last parsed.
 *
 * @param file       the file as the user named it (directory + name)
 * @param entries    the objects of the file in order; kinds Ferry does not read are not listed
 * @param unreadable why the file could not be parsed, or null
 */
public record ManifestFile(String file, List<Entry> entries, ManifestError unreadable) {
    public ManifestFile {
        entries = List.copyOf(entries);
    }

    /** One object of a file. */
    public sealed interface Entry permits Accepted, Rejected {
    }

    /** An object that passed validation. */
    public record Accepted(KubeObject object) implements Entry {
    }

    /**
     * An object that failed validation.
     *
     * @param ref   its kind, namespace and name, or null when it was rejected before they were known
     * @param error what was wrong, naming the file, the object and the field
     */
    public record Rejected(ObjectRef ref, ManifestError error) implements Entry {
    }
}
