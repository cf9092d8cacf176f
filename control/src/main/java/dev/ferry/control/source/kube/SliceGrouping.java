package dev.ferry.control.source.kube;

import dev.ferry.control.compile.ServicePortCompiler;
import dev.ferry.control.model.ChangedSpan;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServiceName;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The EndpointSlices of each Service, as {@link ServicePortCompiler#slicesOf} matches them, kept
 * across the API source's recomputes: when only slices changed (an endpoint going unready, the
 * most common event), only the services owning the slices in the changed span are regrouped,
 * instead of hashing 10,000 slices again. The informer's store keeps an unchanged object's
 * instance and its place in the list, so an update is a span of one ({@link ChangedSpan}); when
 * the store's order moved, the span grows and the result is the same, only slower. When services
 * changed (the source hands them oldest first, unchanged ones as the same instances, so a new
 * Service is a span of one at the end), only the services in their changed span are looked up,
 * and the others' positions moved; the slices' grouping by owner stays.
 *
 * <p>Element i of the result holds the slices of {@code services.get(i)}, in no particular
 * order (the compiler orders them by name); equal as sets to what {@code slicesOf} gives.
 * One thread (the recompute's) uses it.
 */
final class SliceGrouping {
    private List<Service> services;
    private List<EndpointSlice> slices;
    private Map<ServiceName, List<EndpointSlice>> groups;
    /** Where each service name stands in {@code services} (once in the API; a list, so that no input breaks the grouping). */
    private Map<ServiceName, List<Integer>> serviceIndex;
    private List<List<EndpointSlice>> slicesOf;

    /** The slices of each of {@code services}; cheap when {@code services} is the list given last time. */
    List<List<EndpointSlice>> slicesOf(final List<Service> nextServices, final List<EndpointSlice> nextSlices) {
        if (slicesOf == null) {
            regroupAll(nextServices, nextSlices);
            return slicesOf;
        }
        if (nextServices != services) {
            regroupServices(nextServices); // against the slices as they were: their groups are still those
        }
        if (nextSlices != slices) {
            regroupChanged(nextSlices);
        }
        return slicesOf;
    }

    /** The services in the span that changed take their groups; the ones after it move in the index. */
    private void regroupServices(final List<Service> nextServices) {
        final ChangedSpan span = ChangedSpan.between(services, nextServices);
        for (int i = span.start(); i < span.oldEnd(); i++) {
            final ServiceName name = ServiceName.of(services.get(i));
            final List<Integer> at = serviceIndex.get(name);
            at.remove(Integer.valueOf(i));
            if (at.isEmpty()) {
                serviceIndex.remove(name);
            }
        }
        final int shift = span.newEnd() - span.oldEnd();
        if (shift != 0) {
            for (final List<Integer> at : serviceIndex.values()) {
                for (int k = 0; k < at.size(); k++) {
                    if (at.get(k) >= span.oldEnd()) {
                        at.set(k, at.get(k) + shift);
                    }
                }
            }
        }
        final List<List<EndpointSlice>> result = new ArrayList<>(nextServices.size());
        result.addAll(slicesOf.subList(0, span.start()));
        for (int i = span.start(); i < span.newEnd(); i++) {
            final ServiceName name = ServiceName.of(nextServices.get(i));
            serviceIndex.computeIfAbsent(name, k -> new ArrayList<>(1)).add(i);
            result.add(List.copyOf(groups.getOrDefault(name, List.of())));
        }
        result.addAll(slicesOf.subList(span.oldEnd(), slicesOf.size()));
        services = nextServices;
        slicesOf = result;
    }

    private void regroupAll(final List<Service> nextServices, final List<EndpointSlice> nextSlices) {
        groups = new HashMap<>();
        for (final EndpointSlice slice : nextSlices) {
            groups.computeIfAbsent(ServiceName.of(slice), k -> new ArrayList<>()).add(slice);
        }
        serviceIndex = new HashMap<>(nextServices.size() * 2);
        final List<List<EndpointSlice>> result = new ArrayList<>(nextServices.size());
        for (int i = 0; i < nextServices.size(); i++) {
            final ServiceName name = ServiceName.of(nextServices.get(i));
            serviceIndex.computeIfAbsent(name, k -> new ArrayList<>(1)).add(i);
            result.add(List.copyOf(groups.getOrDefault(name, List.of())));
        }
        services = nextServices;
        slices = nextSlices;
        slicesOf = result;
    }

    private void regroupChanged(final List<EndpointSlice> nextSlices) {
        final ChangedSpan span = ChangedSpan.between(slices, nextSlices);
        final Set<ServiceName> owners = new LinkedHashSet<>();
        for (int i = span.start(); i < span.oldEnd(); i++) {
            final EndpointSlice gone = slices.get(i);
            final ServiceName owner = ServiceName.of(gone);
            owners.add(owner);
            final List<EndpointSlice> group = groups.get(owner);
            if (group != null) {
                removeInstance(group, gone);
            }
        }
        for (int i = span.start(); i < span.newEnd(); i++) {
            final EndpointSlice now = nextSlices.get(i);
            final ServiceName owner = ServiceName.of(now);
            owners.add(owner);
            groups.computeIfAbsent(owner, k -> new ArrayList<>()).add(now);
        }
        final List<List<EndpointSlice>> result = new ArrayList<>(slicesOf);
        for (final ServiceName owner : owners) {
            final List<EndpointSlice> group = groups.get(owner);
            if (group != null && group.isEmpty()) {
                groups.remove(owner);
            }
            // a new list for the services that changed: the compiler compiles again what it
            // finds different, and an unchanged service keeps its very list
            final List<EndpointSlice> owned = group == null ? List.of() : List.copyOf(group);
            for (final int index : serviceIndex.getOrDefault(owner, List.of())) {
                result.set(index, owned);
            }
        }
        slices = nextSlices;
        slicesOf = result;
    }

    /** Removes {@code slice} itself (not an equal one) from {@code group}. */
    private static void removeInstance(final List<EndpointSlice> group, final EndpointSlice slice) {
        for (int i = 0; i < group.size(); i++) {
            if (group.get(i) == slice) {
                group.remove(i);
                return;
            }
        }
    }
}
