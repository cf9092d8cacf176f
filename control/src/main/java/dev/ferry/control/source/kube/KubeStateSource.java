package dev.ferry.control.source.kube;

import dev.ferry.control.source.DesiredState;
import dev.ferry.control.source.DesiredStateSource;

import dev.ferry.control.health.SyncTracker;
import dev.ferry.control.compile.CompiledServices;
import dev.ferry.control.compile.ServicePortCompiler;
import dev.ferry.control.dns.ServiceNames;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;
import dev.ferry.control.source.ChangeCounter;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.ServicePortSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The agent's desired state from the Kubernetes API, read the way kube-proxy reads it: informers
 * (list, then watch) on Services and EndpointSlices in every namespace, both without the objects
 * labelled {@value ApiObjects#SERVICE_PROXY_NAME_LABEL} or {@value ApiObjects#HEADLESS_LABEL}
 * (kube-proxy's label selector), on this node's Node, and on the ServiceCIDRs
 * ({@code networking.k8s.io/v1}) when the API server serves them.
 *
 * <p>Every event queues one recompute on the source's thread ({@code ferry-kube}); events that
 * arrive meanwhile share it. A recompute converts the informers' caches ({@link ApiObjects}),
 * compiles them with the same {@link ServicePortCompiler} that serves manifests (slices merged per
 * service, ready/serving/terminating, local by nodeName) and hands the agent the result when it
 * differs from the last one, with kube-proxy's per-service change counts ({@link ChangeCounter}).
 * Objects that do not convert, and services the compiler refuses, are logged once each and left out.
 *
 * <p>Staleness: a probe ({@code GET /version}, every {@code probeIntervalMs} unless a watch event
 * arrived meanwhile, which shows contact as well) tells whether the API server answers. While it does not, the last state keeps serving and the agent's
 * {@link SyncTracker} hears {@link SyncTracker#sourceUnavailable()}, so {@code /healthz} fails once
 * the outage outlasts the health timeout. When it answers again the informers are replaced by new
 * ones (a fresh list): what changed meanwhile, deletions included, is applied even where a resumed
 * watch would not replay it; then the tracker hears {@link SyncTracker#sourceAvailable()}.
 *
 * <p>ServiceCIDRs: the service ranges are the node config's serviceCIDRs (a floor that always
 * stays) plus the IPv4 {@code spec.cidrs} of every ServiceCIDR the informer holds, being deleted or
 * not, as kube-proxy's {@code ServiceCIDRConfig} takes them; a ServiceCIDR goes out of them when the
 * API server has removed it. They go to the agent with each state
 * ({@link DesiredState#extraServiceCidrs()}), which routes them into ferry0 and drops their
 * unallocated addresses, and a ClusterIP in them is accepted. An API server that does not serve
 * ServiceCIDRs (before Kubernetes 1.33, or a role without them) leaves the node config's ranges
 * alone, said once in the log.
 *
 * <p>The Node: its eligibility (being deleted, or tainted for removal) goes to the tracker as
 * kube-proxy's {@code nodeEligible}. When its address or pod range changes and the agent took that
 * value from it ({@link NodeDefaults}), the agent cannot follow (its routing is built around them):
 * {@code nodeChanged} is told, and the command restarts the agent, as kube-proxy exits.
 *
 * <p>The source owns the client and closes it.
 */
public final class KubeStateSource implements DesiredStateSource {
    private static final Logger LOG = Logger.getLogger(KubeStateSource.class.getName());
    /** A tenth of the default health timeout: an outage shows in /healthz within 10% of when it should. */
    public static final long DEFAULT_PROBE_INTERVAL_MS = 6_000;
    public static final long DEFAULT_START_TIMEOUT_MS = 60_000;
    private static final int HTTP_FORBIDDEN = 403;
    private static final int HTTP_NOT_FOUND = 404;

    private final Context ctx;
    private final ScheduledExecutorService worker;
    private final ScheduledExecutorService prober;
    private final AtomicBoolean recomputeQueued = new AtomicBoolean();
    private final AtomicReference<Throwable> lastInformerError = new AtomicReference<>();
    private final ResourceEventHandler<HasMetadata> onEvent = new ResourceEventHandler<>() {
        @Override
        public void onAdd(final HasMetadata object) {
            event(object);
        }

        @Override
        public void onUpdate(final HasMetadata before, final HasMetadata after) {
            event(after);
        }

        @Override
        public void onDelete(final HasMetadata object, final boolean finalStateUnknown) {
            event(object);
        }
    };
    /**
     * Whether a Service (an EndpointSlice) event came since the last recompute took the flag:
     * set by the informers' threads after their store changed, taken by the recompute before it
     * reads the store, so an event during a recompute leaves it set for the next one.
     */
    private final AtomicBoolean servicesDirty = new AtomicBoolean(true);
    private final AtomicBoolean slicesDirty = new AtomicBoolean(true);
    private volatile long lastEventNs = System.nanoTime();

    private volatile Informers informers;
    private volatile boolean started;
    private volatile boolean closed;
    private SyncTracker tracker;
    private Consumer<DesiredState> listener;
    // Written under "this" by the start and recompute paths.
    private List<ServicePortSpec> lastPorts = List.of();
    /**
     * Kept across recomputes, so that a change to one of 10,000 objects costs about one: each
     * informer object's conversion by identity (the informer's store keeps an unchanged object's
     * instance), the compiler with the zone and service ranges it was made for (it reuses what it
     * compiled for a service whose instance and slices are the same), the DNS names.
     */
    private Map<HasMetadata, Converted> convertedServices = new IdentityHashMap<>();
    private Map<HasMetadata, Converted> convertedSlices = new IdentityHashMap<>();
    /**
     * The converted Services (oldest first) and EndpointSlices of the last recompute, with their
     * errors: an endpoint change, the most common event, neither converts nor sorts 10,000
     * Services again. Null before the first recompute of a set of informers.
     */
    private ConvertedList<Service> lastServiceObjects;
    private ConvertedList<EndpointSlice> lastSliceObjects;
    private Informers recomputedInformers;
    private final SliceGrouping grouping = new SliceGrouping();
    /** The Services oldest first, kept from one recompute to the next. */
    private final AgeOrder<io.fabric8.kubernetes.api.model.Service> serviceOrder = new AgeOrder<>();
    private volatile long lastRecomputeNs;
    private ServicePortCompiler compiler;
    private String compilerZone;
    private List<Ipv4Cidr> compilerCidrs;
    private final ServiceNames.Incremental namer = new ServiceNames.Incremental();
    private ServiceNames lastNames = ServiceNames.EMPTY;
    private boolean delivered;
    private Set<ManifestError> lastErrors = Set.of();
    private List<Ipv4Cidr> lastExtraCidrs = List.of();
    private Set<String> lastIpv6Cidrs = Set.of();
    /** Whether the last informer start found ServiceCIDRs served; null before the first. Start and probe paths. */
    private volatile Boolean serviceCidrsServed;
    private boolean nodeSeen;
    private boolean nodeChangeReported;
    // Probe thread only.
    private boolean unavailable;
    private long unavailableSinceNs;

    public KubeStateSource(final Context context) {
        this.ctx = context.conclude();
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("ferry-kube").daemon().unstarted(r));
        this.prober = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("ferry-kube-probe").daemon().unstarted(r));
    }

    /** The informers in use: Services, EndpointSlices, this node's Node, and ServiceCIDRs (null when not served). */
    private record Informers(SharedIndexInformer<io.fabric8.kubernetes.api.model.Service> services,
                             SharedIndexInformer<io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice> slices,
                             SharedIndexInformer<Node> node,
                             SharedIndexInformer<ServiceCIDR> serviceCidrs) implements AutoCloseable {
        List<SharedIndexInformer<? extends HasMetadata>> all() {
            return serviceCidrs == null ? List.of(services, slices, node) : List.of(services, slices, node, serviceCidrs);
        }

        CompletableFuture<Void> synced() {
            return CompletableFuture.allOf(all().stream().map(i -> i.start().toCompletableFuture()).toArray(CompletableFuture[]::new));
        }

        List<ServiceCIDR> serviceCidrList() {
            return serviceCidrs == null ? List.of() : serviceCidrs.getStore().list();
        }

        @Override
        public void close() {
            all().forEach(SharedIndexInformer::close);
        }
    }

    @Override
    public void health(final SyncTracker syncTracker) {
        this.tracker = syncTracker;
    }

    @Override
    public void start(final Consumer<DesiredState> stateListener) {
        this.listener = Objects.requireNonNull(stateListener, "listener");
        try {
            informers = startInformers(ctx.startTimeoutMs);
            LOG.info("kubernetes API " + ctx.client.getMasterUrl() + ": watching Services and EndpointSlices (without the labels "
                + ApiObjects.SERVICE_PROXY_NAME_LABEL + " and " + ApiObjects.HEADLESS_LABEL + "), Node " + ctx.config.nodeName()
                + (informers.serviceCidrs() != null ? " and ServiceCIDRs" : ""));
            recompute(); // the first state, on the calling thread
            started = true;
            requestRecompute(); // anything that arrived between the first state and now
            prober.scheduleWithFixedDelay(this::probe, ctx.probeIntervalMs, ctx.probeIntervalMs, TimeUnit.MILLISECONDS);
        } catch (final RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Starts a new set of informers and waits for their first list; throws when it does not come in time. */
    private Informers startInformers(final long timeoutMs) {
        final KubernetesClient client = ctx.client;
        final Informers fresh = new Informers(
            client.services().inAnyNamespace()
                .withoutLabel(ApiObjects.SERVICE_PROXY_NAME_LABEL).withoutLabel(ApiObjects.HEADLESS_LABEL)
                .runnableInformer(0),
            client.discovery().v1().endpointSlices().inAnyNamespace()
                .withoutLabel(ApiObjects.SERVICE_PROXY_NAME_LABEL).withoutLabel(ApiObjects.HEADLESS_LABEL)
                .runnableInformer(0),
            client.nodes().withField("metadata.name", ctx.config.nodeName()).runnableInformer(0),
            serviceCidrsServed() ? client.network().v1().serviceCIDRs().runnableInformer(0) : null);
        for (final SharedIndexInformer<? extends HasMetadata> informer : fresh.all()) {
            informer.addEventHandler(onEvent);
            // Keep trying whatever fails (the API server down, a refused watch): the probe reports
            // the outage, and the last state serves meanwhile.
            informer.exceptionHandler((isStarted, t) -> {
                lastInformerError.set(t);
                return !closed;
            });
        }
        try {
            fresh.synced().get(timeoutMs, TimeUnit.MILLISECONDS);
            return fresh;
        } catch (final TimeoutException | ExecutionException e) {
            fresh.close();
            final Throwable cause = e instanceof ExecutionException ? e.getCause() : lastInformerError.get();
            throw new IllegalStateException("cannot list Services, EndpointSlices and Node " + ctx.config.nodeName()
                + " from the API server at " + client.getMasterUrl() + " within " + duration(timeoutMs)
                + (cause == null ? "" : ": " + cause.getMessage()), cause);
        } catch (final InterruptedException e) {
            fresh.close();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing from the API server", e);
        }
    }

    /**
     * Whether the API server serves ServiceCIDRs to this agent, asked with a list of at most one.
     * Not found (a cluster before Kubernetes 1.33, whose API has no networking.k8s.io/v1
     * ServiceCIDR) or forbidden (a ClusterRole without them): false, said once, and the node
     * config's serviceCIDRs are the service ranges. Any other failure (the API server not answering
     * yet): true, and the informer's first list waits for it as the others' do.
     */
    private boolean serviceCidrsServed() {
        boolean served = true;
        String why = null;
        try {
            ctx.client.network().v1().serviceCIDRs().list(new ListOptionsBuilder().withLimit(1L).build());
        } catch (final KubernetesClientException e) {
            if (e.getCode() == HTTP_NOT_FOUND) {
                served = false;
                why = "the API server does not serve ServiceCIDRs (networking.k8s.io/v1, Kubernetes 1.33 and later)";
            } else if (e.getCode() == HTTP_FORBIDDEN) {
                served = false;
                why = "the agent may not list ServiceCIDRs (networking.k8s.io/v1; grant list and watch on servicecidrs,"
                    + " docs/deploy/rbac.yaml)";
            }
        }
        if (!served && !Boolean.FALSE.equals(serviceCidrsServed)) {
            LOG.warning(why + ": the service ranges are the node config's serviceCIDRs " + ctx.config.serviceCidrs() + " alone");
        } else if (served && Boolean.FALSE.equals(serviceCidrsServed)) {
            LOG.info("the API server serves ServiceCIDRs now: their ranges join the node config's serviceCIDRs");
        }
        serviceCidrsServed = served;
        return served;
    }

    private static String duration(final long ms) {
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    private void event(final HasMetadata object) {
        lastEventNs = System.nanoTime();
        if (object instanceof io.fabric8.kubernetes.api.model.Service) {
            servicesDirty.set(true);
        } else if (object instanceof io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice) {
            slicesDirty.set(true);
        }
        requestRecompute();
    }

    private void requestRecompute() {
        if (!started || closed) {
            return;
        }
        if (recomputeQueued.compareAndSet(false, true)) {
            try {
                worker.execute(() -> {
                    recomputeQueued.set(false);
                    try {
                        recompute();
                    } catch (final RuntimeException e) {
                        // A bug, not a bad object: keep serving the last state and say so.
                        LOG.severe("recomputing the desired state failed; the last state keeps serving: " + e);
                    }
                });
            } catch (final java.util.concurrent.RejectedExecutionException e) {
                recomputeQueued.set(false); // closing
            }
        }
    }

    /** Converts and compiles the caches; hands the agent the result when it changed. */
    private synchronized void recompute() {
        if (closed) {
            return;
        }
        final long startNs = System.nanoTime();
        try {
            recomputeNow();
        } finally {
            lastRecomputeNs = System.nanoTime() - startNs;
        }
    }

    /** How long the last recompute took, in ns, the listener's share included (ApiLatencyHarness reads it). */
    long lastRecomputeNs() {
        return lastRecomputeNs;
    }

    private void recomputeNow() {
        final Informers current = informers;
        final boolean fresh = current != recomputedInformers;
        recomputedInformers = current;
        // take the flags before reading the stores: an event from here on sets them again
        final boolean servicesChanged = servicesDirty.getAndSet(false);
        final boolean slicesChanged = slicesDirty.getAndSet(false);
        try {
            if (servicesChanged || fresh || lastServiceObjects == null) {
                final Map<HasMetadata, Converted> now = new IdentityHashMap<>(convertedServices.size() + 16);
                if (fresh) {
                    serviceOrder.reset(); // new informers: every instance is new
                }
                lastServiceObjects = convert(serviceOrder.of(current.services().getStore().list()), convertedServices, now, Service.class,
                    api -> ApiObjects.service((io.fabric8.kubernetes.api.model.Service) api));
                convertedServices = now;
            }
            if (slicesChanged || fresh || lastSliceObjects == null) {
                final Map<HasMetadata, Converted> now = new IdentityHashMap<>(convertedSlices.size() + 16);
                lastSliceObjects = convert(current.slices().getStore().list(), convertedSlices, now, EndpointSlice.class,
                    api -> ApiObjects.slice((io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice) api));
                convertedSlices = now;
            }
        } catch (final RuntimeException e) {
            // a conversion that threw must not lose the change: the next recompute tries again
            recomputedInformers = null; // converts both kinds again, whatever the flags say
            throw e;
        }
        final List<Service> services = lastServiceObjects.objects();
        final List<EndpointSlice> slices = lastSliceObjects.objects();
        final List<ManifestError> errors = new ArrayList<>(lastServiceObjects.errors());
        errors.addAll(lastSliceObjects.errors());
        final List<Ipv4Cidr> extraCidrs = extraServiceCidrs(current.serviceCidrList(), errors);
        final NodeFacts node = current.node().getStore().list().stream().filter(n -> ctx.config.nodeName().equals(n.getMetadata().getName()))
            .findFirst().map(NodeFacts::of).orElse(null);
        // topology hints name zones: this node's is its Node's label (kube-proxy watches it), else the node config's
        final String zone = node != null ? node.zone() : ctx.config.zone();
        // a ClusterIP from the cluster's ServiceCIDRs is one the compiler accepts; the compiler is
        // kept while they and the zone stay, and compiles again only the services that changed
        if (compiler == null || !Objects.equals(zone, compilerZone) || !extraCidrs.equals(compilerCidrs)) {
            compiler = new ServicePortCompiler(ctx.config.withExtraServiceCidrs(extraCidrs), zone);
            compilerZone = zone;
            compilerCidrs = extraCidrs;
        }
        final List<List<EndpointSlice>> slicesOf = grouping.slicesOf(services, slices);
        final CompiledServices compiled = compiler.compile(services, slicesOf);
        errors.addAll(compiled.errors());
        logNewErrors(errors);
        checkNode(node);

        final List<ServicePortSpec> ports = compiled.ports();
        final ServiceNames names = ctx.names ? namer.of(services, slicesOf, ports) : ServiceNames.EMPTY;
        if (delivered && ports.equals(lastPorts) && names.equals(lastNames) && extraCidrs.equals(lastExtraCidrs)) {
            return; // a no-op change (a resync, a status update Ferry does not use)
        }
        if (!extraCidrs.equals(lastExtraCidrs)) {
            LOG.info("service ranges: the node config's serviceCIDRs " + ctx.config.serviceCidrs()
                + (extraCidrs.isEmpty() ? " alone" : " and the cluster's ServiceCIDRs " + extraCidrs));
        }
        final int[] changes = ChangeCounter.count(lastPorts, ports);
        delivered = true;
        lastPorts = ports;
        lastNames = names;
        lastExtraCidrs = extraCidrs;
        listener.accept(new DesiredState(ports, names, changes[0], changes[1], extraCidrs));
    }

    /**
     * The IPv4 ranges of {@code serviceCidrs}, sorted, each once (the sync routes those the node
     * config's serviceCIDRs do not cover). Those being deleted count until they are gone (kube-proxy's
     * {@code ServiceCIDRConfig} reads no deletionTimestamp either: the API server deletes one only
     * once no ClusterIP of it is left). IPv6 ranges are logged once each and left out.
     */
    private List<Ipv4Cidr> extraServiceCidrs(final List<ServiceCIDR> serviceCidrs, final List<ManifestError> errors) {
        final Set<Ipv4Cidr> ranges = new TreeSet<>(Comparator.comparingLong((Ipv4Cidr c) -> Integer.toUnsignedLong(c.base()))
            .thenComparingInt(Ipv4Cidr::prefixLen));
        final Set<String> ipv6 = new HashSet<>();
        for (final ServiceCIDR api : serviceCidrs) {
            try {
                ranges.addAll(ApiObjects.serviceCidrRanges(api, ctx.config.toNodeSpec()));
            } catch (final ApiObjects.ApiObjectException e) {
                errors.add(e.error());
            }
            if (api.getSpec() != null && api.getSpec().getCidrs() != null) {
                api.getSpec().getCidrs().stream().filter(ApiObjects::isIpv6)
                    .forEach(cidr -> ipv6.add("ServiceCIDR " + api.getMetadata().getName() + ": " + cidr));
            }
        }
        for (final String range : ipv6) {
            if (!lastIpv6Cidrs.contains(range)) {
                LOG.info(range + " left out: the dataplane is IPv4-only");
            }
        }
        lastIpv6Cidrs = ipv6;
        return List.copyOf(ranges);
    }

    /** An informer object converted: the model object (null when skipped, as kube-proxy skips it), or why it cannot be. */
    private record Converted(Object object, ManifestError error) {
    }

    private interface Conversion {
        Object convert(HasMetadata api) throws ApiObjects.ApiObjectException;
    }

    /** Converted informer objects of one kind, in the order given, and the errors of those that could not be. */
    private record ConvertedList<T>(List<T> objects, List<ManifestError> errors) {
    }

    /**
     * Converts {@code apis}, each from {@code before} when it is the same instance as last time,
     * recording every conversion in {@code now}. Objects {@code conversion} skips (null) are left out.
     */
    private static <T> ConvertedList<T> convert(final List<? extends HasMetadata> apis, final Map<HasMetadata, Converted> before,
                                          final Map<HasMetadata, Converted> now, final Class<T> type, final Conversion conversion) {
        final List<T> objects = new ArrayList<>(apis.size());
        final List<ManifestError> errors = new ArrayList<>();
        for (final HasMetadata api : apis) {
            Converted c = before.get(api);
            if (c == null) {
                try {
                    c = new Converted(conversion.convert(api), null);
                } catch (final ApiObjects.ApiObjectException e) {
                    c = new Converted(null, e.error());
                }
            }
            now.put(api, c);
            if (c.error() != null) {
                errors.add(c.error());
            } else if (type.isInstance(c.object())) {
                objects.add(type.cast(c.object()));
            }
        }
        return new ConvertedList<>(List.copyOf(objects), List.copyOf(errors));
    }

    private void logNewErrors(final List<ManifestError> errors) {
        final Set<ManifestError> now = new HashSet<>(errors);
        for (final ManifestError error : errors) {
            if (!lastErrors.contains(error)) {
                LOG.warning("left out: " + error);
            }
        }
        lastErrors = now;
    }

    /** @param facts this node's Node as last seen, null when there is none */
    private void checkNode(final NodeFacts facts) {
        if (facts == null) {
            if (nodeSeen && tracker != null) {
                tracker.nodeEligible(false); // the Node was deleted
            }
            return;
        }
        nodeSeen = true;
        if (tracker != null) {
            tracker.nodeEligible(facts.eligible());
        }
        final String change = nodeChange(facts);
        if (change != null && !nodeChangeReported) {
            nodeChangeReported = true;
            LOG.severe("Node " + facts.name() + ": " + change + "; the agent restarts to take it");
            ctx.nodeChanged.accept(change);
        }
    }

    /** What changed in a value the agent took from the Node at start, or null. */
    private String nodeChange(final NodeFacts facts) {
        final NodeConfig config = ctx.config;
        if (ctx.fromNode.contains("nodeIPs") && facts.nodeIp() != null && !facts.nodeIp().equals(config.nodeIps().getFirst())) {
            return "its address changed from " + Ipv4.format(config.nodeIps().getFirst()) + " to " + Ipv4.format(facts.nodeIp());
        }
        if (ctx.fromNode.contains("podCIDR") && !Objects.equals(facts.podCidr(), config.podCidr())) {
            return "its pod range changed from " + config.podCidr() + " to " + facts.podCidr();
        }
        return null;
    }

    /** Asks the API server whether it answers; on the way back after an outage, relists. */
    private void probe() {
        if (closed) {
            return;
        }
        if (!unavailable && System.nanoTime() - lastEventNs < TimeUnit.MILLISECONDS.toNanos(ctx.probeIntervalMs)) {
            return; // an event arrived since the last probe: the API server was there
        }
        try {
            ctx.client.getKubernetesVersion();
        } catch (final RuntimeException e) {
            if (!unavailable) {
                unavailable = true;
                unavailableSinceNs = System.nanoTime();
                if (tracker != null) {
                    tracker.sourceUnavailable();
                }
                LOG.warning("the API server at " + ctx.client.getMasterUrl() + " does not answer (" + e.getMessage()
                    + "); the last state keeps serving");
            }
            return;
        }
        if (!unavailable) {
            return;
        }
        // Back: list everything again, so that what changed meanwhile (deletions too) is applied.
        final Informers fresh;
        try {
            fresh = startInformers(ctx.startTimeoutMs);
        } catch (final RuntimeException e) {
            LOG.warning("the API server answers again but listing failed (" + e.getMessage() + "); will retry");
            return;
        }
        final Informers old;
        synchronized (this) {
            if (closed) {
                fresh.close();
                return;
            }
            old = informers;
            informers = fresh;
        }
        old.close();
        unavailable = false;
        requestRecompute();
        if (tracker != null) {
            tracker.sourceAvailable();
        }
        LOG.info("the API server at " + ctx.client.getMasterUrl() + " answers again after "
            + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - unavailableSinceNs) + " s; relisted");
    }

    @Override
    public void close() {
        final Informers current;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            current = informers;
        }
        prober.shutdownNow();
        worker.shutdownNow();
        if (current != null) {
            current.close();
        }
        ctx.client.close();
    }

    /** What the source needs; {@link #conclude()} checks it once. */
    public static final class Context {
        private KubernetesClient client;
        private NodeConfig config;
        private Set<String> fromNode = Set.of();
        private Consumer<String> nodeChanged = change -> { };
        private long probeIntervalMs = DEFAULT_PROBE_INTERVAL_MS;
        private long startTimeoutMs = DEFAULT_START_TIMEOUT_MS;
        private boolean names = true;

        /** False when nothing reads the services' DNS names (the agent without a DNS server): none are made. Default true. */
        public Context names(final boolean wanted) {
            this.names = wanted;
            return this;
        }

        /** The API connection (see {@link KubeApi}); the source closes it. Required. */
        public Context client(final KubernetesClient client) {
            this.client = client;
            return this;
        }

        /** The node config the agent runs with: its nodeName picks the Node and the local endpoints. Required. */
        public Context nodeConfig(final NodeConfig config) {
            this.config = config;
            return this;
        }

        /** The node config keys whose values the Node decided at start ({@link NodeDefaults#fromNode()}). */
        public Context fromNode(final Set<String> keys) {
            this.fromNode = Set.copyOf(keys);
            return this;
        }

        /** Told (once, on the source's thread) when the Node's address or pod range changed under the agent. */
        public Context nodeChanged(final Consumer<String> callback) {
            this.nodeChanged = callback;
            return this;
        }

        /** How often the API server is asked whether it answers; default {@value #DEFAULT_PROBE_INTERVAL_MS}. */
        public Context probeIntervalMs(final long intervalMs) {
            this.probeIntervalMs = intervalMs;
            return this;
        }

        /** How long the first list (and a relist after an outage) may take; default {@value #DEFAULT_START_TIMEOUT_MS}. */
        public Context startTimeoutMs(final long timeoutMs) {
            this.startTimeoutMs = timeoutMs;
            return this;
        }

        Context conclude() {
            Objects.requireNonNull(client, "KubeStateSource.Context.client is required");
            Objects.requireNonNull(config, "KubeStateSource.Context.nodeConfig is required");
            Objects.requireNonNull(nodeChanged, "KubeStateSource.Context.nodeChanged");
            if (probeIntervalMs <= 0 || startTimeoutMs <= 0) {
                throw new IllegalArgumentException("probeIntervalMs and startTimeoutMs must be positive, were "
                    + probeIntervalMs + " and " + startTimeoutMs);
            }
            return this;
        }
    }
}
