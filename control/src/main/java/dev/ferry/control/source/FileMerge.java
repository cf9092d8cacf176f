package dev.ferry.control.source;

import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.manifest.ManifestFile;
import dev.ferry.control.manifest.ManifestReader;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Endpoints;
import dev.ferry.control.model.KubeObject;
import dev.ferry.control.model.Pod;
import dev.ferry.control.model.Service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link ManifestReader#merge} across reloads, merging again only the files that changed. The
 * rule stays merge's (the first definition of an object wins, later ones are errors); what this
 * adds is its consequence for files that define no object in common: merging them is merging
 * each alone and concatenating the results in file order. So each file (by instance: an unchanged
 * file's parse is reused, the very same object) is merged once, alone, and the number of files
 * defining each identity is kept up to date as files come and go; while no identity has two, a
 * reload costs a concatenation. When one has, everything is merged by {@link ManifestReader#merge}.
 * Not thread-safe: the pipeline's one caller.
 */
final class FileMerge {
    /** One file merged alone, and the identities of the objects it contributes. */
    private record Part(ManifestSet merged, List<String> identities) {
    }

    private Map<ManifestFile, Part> parts = new IdentityHashMap<>();
    /** How many of the current files contribute an object of each identity. */
    private final Map<String, Integer> definers = new HashMap<>();
    /** The identities with more than one definer. */
    private int shared;

    /** What {@code ManifestReader.merge(errors, files)} returns. */
    ManifestSet merge(final List<ManifestError> errors, final List<ManifestFile> files) {
        final Map<ManifestFile, Part> current = new IdentityHashMap<>(files.size());
        for (final ManifestFile file : files) {
            Part part = parts.get(file);
            if (part == null) {
                part = current.get(file);
            }
            if (part == null) {
                part = part(file);
                count(part, 1);
            }
            current.put(file, part);
        }
        parts.forEach((file, part) -> {
            if (!current.containsKey(file)) {
                count(part, -1); // gone, or replaced by a new parse
            }
        });
        parts = current;
        if (shared > 0 || current.size() != files.size()) {
            return ManifestReader.merge(errors, files); // objects defined twice (or one file listed twice): file order decides
        }
        final List<Service> services = new ArrayList<>();
        final List<EndpointSlice> slices = new ArrayList<>();
        final List<Endpoints> endpoints = new ArrayList<>();
        final List<Pod> pods = new ArrayList<>();
        final List<ManifestError> allErrors = new ArrayList<>(errors);
        for (final ManifestFile file : files) {
            final ManifestSet merged = current.get(file).merged();
            services.addAll(merged.services());
            slices.addAll(merged.endpointSlices());
            endpoints.addAll(merged.endpoints());
            pods.addAll(merged.pods());
            allErrors.addAll(merged.errors());
        }
        return new ManifestSet(services, slices, endpoints, pods, allErrors);
    }

    private void count(final Part part, final int delta) {
        for (final String identity : part.identities()) {
            final int before = definers.getOrDefault(identity, 0);
            final int after = before + delta;
            if (after == 0) {
                definers.remove(identity);
            } else {
                definers.put(identity, after);
            }
            if (before < 2 && after >= 2) {
                shared++;
            } else if (before >= 2 && after < 2) {
                shared--;
            }
        }
    }

    private static Part part(final ManifestFile file) {
        final ManifestSet merged = ManifestReader.merge(List.of(), List.of(file));
        final List<String> identities = new ArrayList<>();
        for (final List<? extends KubeObject> objects : List.of(merged.services(), merged.endpointSlices(), merged.endpoints(),
            merged.pods())) {
            objects.forEach(object -> identities.add(object.identity()));
        }
        return new Part(merged, identities);
    }
}
