package dev.ferry.control.agent;

import dev.ferry.control.source.DesiredStateSource;
import dev.ferry.control.source.StateHook;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.control.admin.AdminServer;
import dev.ferry.control.admin.AgentStatus;
import dev.ferry.control.health.SyncTracker;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.PortType;
import dev.ferry.control.dns.DnsServer;
import dev.ferry.control.host.HostNetwork;
import dev.ferry.control.host.LocalAddressWatcher;
import dev.ferry.control.host.HostRouting;
import dev.ferry.control.host.PacketAttach;
import dev.ferry.nativeio.netlink.Sysctl;
import dev.ferry.control.sync.BoundedFrequencyRunner;
import dev.ferry.control.sync.ServiceSync;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.control.files.FileModes;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.pipeline.Pipeline;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.port.PacketPort;
import dev.ferry.dataplane.service.LocalAddresses;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.nativeio.probe.NativeAccessProbe;
import org.agrona.concurrent.SystemEpochClock;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;

/**
 * The node agent: attaches ferry0, runs the pipeline, keeps the service snapshot in step
 * with the desired state, and serves the admin endpoints. Started by {@code ferry agent}.
 * What it installs in the kernel (ferry0, rules, routes, sysctls) outlives it, on SIGTERM as
 * after a crash, so that nothing is delivered untranslated while it is away; the next start
 * adopts it with the conntrack file, and {@code ferry agent --cleanup} removes it.
 *
 * <p>Start order: check native access → adopt (or clean) what a predecessor left → load the desired state once →
 * open conntrack and counters → create ferry0 and its routing → start the pipeline → first
 * sync (the DNS server, with --dns-address, binds before it and answers from it on) → watch the
 * sources → admin endpoints. Closing runs it backwards.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Agent.class.getName());

    private final AgentOptions options;
    private final Deque<AutoCloseable> closeOnExit = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private ServiceTableHolder tables;
    private ServiceSync sync;
    private BoundedFrequencyRunner runner;
    private SyncTracker tracker;
    private AdminServer admin;
    private HostNetwork host;

    public Agent(final AgentOptions options) {
        this.options = options;
    }

    /**
     * Brings everything up; on failure undoes what it did and throws. {@code hooks} follow every
     * desired state after the sync loop has it, and are closed with the agent.
     */
    public void start(final DesiredStateSource source, final StateHook... hooks) {
        try {
            doStart(source, List.of(hooks));
        } catch (final RuntimeException | Error e) {
            close(); // a half-started agent leaves nothing installed
            throw e;
        }
    }

    private void doStart(final DesiredStateSource source, final List<StateHook> hooks) {
        final StartTimeline timeline = new StartTimeline();
        final NodeConfig config = options.config();
        final NodeSpec node = config.toNodeSpec();
        // the packet port's socket opens in a network namespace of its own (PacketAttach): CAP_SYS_ADMIN
        final NativeAccessProbe.Need[] needs = config.portType() == PortType.TUN
            ? new NativeAccessProbe.Need[] {NativeAccessProbe.Need.TUN, NativeAccessProbe.Need.NETLINK}
            : new NativeAccessProbe.Need[] {NativeAccessProbe.Need.PACKET, NativeAccessProbe.Need.NAMESPACE, NativeAccessProbe.Need.NETLINK};
        NativeAccessProbe.check(needs).require();
        final SnatRange snat = config.snatRange();
        final String portClash = HostRouting.checkLocalPortRange(Sysctl.read("net.ipv4.ip_local_port_range"), snat,
            config.hasMasqueradeAddress(), node.nodePortMin(), node.nodePortMax());
        if (portClash != null) {
            throw new IllegalStateException(portClash);
        }
        createDirectories();

        host = new HostNetwork(options.runDir());
        closeOnExit.push(host);
        for (final String line : host.adopt(config.portType().name().toLowerCase(java.util.Locale.ROOT))) {
            LOG.warning("found from a previous run: " + line);
        }
        timeline.phaseDone("checks and adopting");

        final boolean conntrackExisted = hasContent(options.conntrackFile());
        final ConntrackTable conntrack = ConntrackTable.mapped(options.conntrackFile(), options.conntrackCapacity(),
            ConntrackTimeouts.kubeProxyDefaults());
        closeOnExit.push(conntrack);
        FileModes.ownerOnly(options.conntrackFile()); // every flow of the node: addresses and ports
        if (conntrack.attached()) {
            LOG.info("attached to conntrack " + options.conntrackFile() + ": " + conntrack.size() + " flows kept");
        } else if (conntrackExisted) {
            LOG.warning("conntrack " + options.conntrackFile() + " was of another layout version or capacity: replaced by an empty table");
        }
        final boolean affinityExisted = hasContent(options.affinityFile());
        final ClientIpAffinityTable affinity = ClientIpAffinityTable.mapped(options.affinityFile(), ClientIpAffinityTable.DEFAULT_CAPACITY);
        closeOnExit.push(affinity); // unmapped after the pipeline (pushed later, so closed first) has stopped its threads
        FileModes.ownerOnly(options.affinityFile()); // which client goes to which pod
        if (affinity.attached()) {
            LOG.info("attached to ClientIP affinity records " + options.affinityFile() + ": " + affinity.liveRecords(System.currentTimeMillis())
                + " live records kept");
        } else if (affinityExisted) {
            LOG.warning("ClientIP affinity records " + options.affinityFile() + " were of another layout version or size:"
                + " replaced by an empty table");
        }
        final DataplaneCounters counters = DataplaneCounters.mapped(options.countersFile(), options.workers()); // a set per queue
        closeOnExit.push(counters);
        FileModes.groupReadable(options.countersFile());
        timeline.phaseDone("conntrack, affinity and counter files");

        tables = new ServiceTableHolder(ServiceTable.empty(node));
        tracker = new SyncTracker(SystemEpochClock.INSTANCE, SyncTracker.defaultHealthzTimeoutMs(options.syncMaxIntervalMs()));

        // ferry0 and the routing steering service traffic into it
        host.prepareSysctls();
        final PacketAttach.Link link = PacketAttach.create(config.portType(), host.netlink(), options.workers());
        for (final PacketPort port : link.ports()) {
            closeOnExit.push(port); // closed after the pipeline's threads stop: ferry0 disappears with the last
        }
        host.install(link, node, snat, config.hasMasqueradeAddress());
        // the node's own addresses beyond nodeIPs, followed as the kernel changes them: a flow
        // from one of them is node traffic to kube-proxy ("fib saddr type local")
        final LocalAddresses localAddresses = new LocalAddresses();
        closeOnExit.push(LocalAddressWatcher.start(localAddresses));
        timeline.phaseDone("ferry0 and its routing");

        final Pipeline pipeline = new Pipeline(new Pipeline.Context()
            .ports(link.ports())
            .conntrack(conntrack)
            .tables(tables)
            .snat(snat)
            .counters(counters)
            .affinity(affinity)
            .localAddresses(localAddresses)
            .idleSpinNs(options.idleSpinNs())
            .errorHandler(t -> LOG.severe("dataplane agent error: " + t)));
        closeOnExit.push(pipeline); // started below, once the first desired state is in the table

        sync = new ServiceSync(node, tables, conntrack, host, (durationNs, queuedAtMs, ok) -> {
            if (ok) {
                tracker.syncSucceeded(durationNs);
            } else {
                tracker.syncFailed(durationNs);
            }
        });
        // DNS answers from the names each sync swaps in with its table: a new Service resolves once its address is served
        final DnsServer dns = options.dns().enabled() ? DnsServer.start(new DnsServer.Context()
            .addresses(options.dns().addresses())
            .upstream(options.dns().upstream())
            .clusterDomain(options.dns().clusterDomain())) : null;
        if (dns != null) {
            closeOnExit.push(dns);
            sync.names(dns::serve);
        }
        runner = new BoundedFrequencyRunner("ferry-sync", sync::sync, options.syncMinIntervalMs(), options.syncMaxIntervalMs(),
            t -> LOG.severe("sync failed: " + t));
        closeOnExit.push(runner);

        for (final StateHook hook : hooks) {
            hook.health(tracker);
            closeOnExit.push(hook);
        }
        source.health(tracker);
        source.start(change -> {
            tracker.changeQueued();
            tracker.servicesChanged(change.servicesChanged());
            tracker.endpointsChanged(change.endpointsChanged());
            sync.setDesired(change.ports(), change.names(), change.extraServiceCidrs(), System.currentTimeMillis());
            runner.run();
            hooks.forEach(hook -> hook.accept(change));
        });
        closeOnExit.push(source);
        timeline.phaseDone("the source's first desired state");
        sync.sync(); // the first state is in place before the periodic runs begin
        timeline.phaseDone("first sync");
        // Only now read ferry0: a packet read before the first sync would meet an empty table and
        // pass untranslated (after a restart, a SYN to a NodePort would reach the node's own
        // stack and be refused). Until then packets wait in the device's queue.
        pipeline.start();
        runner.start();
        timeline.phaseDone("queues started (serving)");

        admin = AdminServer.start(new AdminServer.Context()
            .status(AgentStatus.of(tables::get, conntrack, counters, tracker, host::replySteering, localAddresses)
                .withDns(dns == null ? null : dns.counters()))
            .healthzBindAddressAndPort(options.healthzBindAddress())
            .metricsBindAddressAndPort(options.metricsBindAddress())
            .controlSocket(options.controlSocket()));
        closeOnExit.push(admin);

        LOG.info("ferry agent on node " + config.nodeName() + " (" + node.nodeIps().stream().map(Ipv4::format).toList()
            + "): port " + link.describe() + ", a thread per queue, SNAT " + snat
            + ", installed " + host.describe()
            + "; conntrack " + options.conntrackFile() + " (" + conntrack.capacity() + " entries), counters " + options.countersFile()
            + "; admin " + admin.transport() + " healthz " + admin.healthzAddress() + " metrics " + admin.metricsAddress()
            + " control " + admin.controlSocket()
            + (dns == null ? "" : "; DNS " + dns.udpAddresses() + " for " + options.dns().clusterDomain())
            + "; local addresses " + localAddresses.describe()
            + "; " + tables.get().size() + " service ports");
        timeline.phaseDone("admin server");
        LOG.info(timeline.describe());
    }

    /** True when {@code file} is there and not empty: a previous agent's table, to be attached or replaced. */
    private static boolean hasContent(final Path file) {
        try {
            return Files.size(file) > 0;
        } catch (final java.io.IOException e) {
            return false; // not there: a first start
        }
    }

    /** The run directory (counters: group-traversable for ferry stat) and the state directory (owner only). */
    private void createDirectories() {
        FileModes.directory(options.runDir(), true, Set.of(options.countersFile().getFileName().toString(), HostNetwork.STATE_FILE,
            options.controlSocket().getFileName().toString()));
        FileModes.directory(options.stateDir(), false, Set.of(options.conntrackFile().getFileName().toString(),
            options.allocationsFile().getFileName().toString(), options.affinityFile().getFileName().toString(),
            options.manifestCacheDir().getFileName().toString()));
    }

    /** The current snapshot (for tests and trace against a running agent). */
    public ServiceTable serviceTable() {
        return tables == null ? null : tables.get();
    }

    /** Blocks until {@link #close()} has run. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Stops everything and removes what was installed, in reverse order of start. Idempotent. */
    @Override
    public synchronized void close() {
        while (!closeOnExit.isEmpty()) {
            final AutoCloseable c = closeOnExit.pop();
            try {
                c.close();
            } catch (final Exception e) {
                LOG.severe("while stopping " + c.getClass().getSimpleName() + ": " + e);
            }
        }
        stopped.countDown();
    }
}
