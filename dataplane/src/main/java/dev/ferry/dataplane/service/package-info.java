/**
 * The service table and the routing verdict for the first packet of a new flow.
 *
 * <p>{@link dev.ferry.dataplane.service.ServiceTable#compile} turns the control side's
 * {@link dev.ferry.dataplane.service.ServicePortSpec}s into an immutable snapshot: one
 * {@link dev.ferry.dataplane.service.ServicePort} per spec with its eligible endpoint sets
 * precomputed, and an open-addressing hash table from (address, protocol, port) to (service port,
 * {@link dev.ferry.dataplane.service.Frontend}). {@link dev.ferry.dataplane.service.ServiceRouter}
 * then decides, per packet, with array lookups only.
 *
 * <h2>Semantics (kube-proxy nftables mode) and where Ferry chose</h2>
 * <ul>
 *   <li>Eligible endpoints follow CategorizeEndpoints (pkg/proxy/topology.go): ready, else
 *       serving-and-terminating; the local set applies the same rule to local endpoints only;
 *       topology hints narrow the cluster set as there ({@code EndpointSpec#inTopology}).</li>
 *   <li>An empty set is REJECT when the port has no usable endpoint anywhere (kube-proxy's
 *       {@code hasEndpoints} is false), otherwise DROP (a Local policy with no local endpoint). So an
 *       internalTrafficPolicy Local service with no endpoint at all rejects, as kube-proxy does.</li>
 *   <li>externalTrafficPolicy Local short-circuits pod sources (clusterCIDRs) and the node's own
 *       addresses to the cluster set; only the latter is masqueraded. The node's addresses are
 *       its {@code nodeIps} and every local address of the kernel's
 *       ({@link dev.ferry.dataplane.service.LocalAddresses}), as {@code fib saddr type local}
 *       tests.</li>
 *   <li>loadBalancerSourceRanges filter LoadBalancer IPs only; when a range holds a node IP the LB
 *       IPs themselves are allowed as sources too (kube-proxy's allowFromNode).</li>
 *   <li>masqueradeAll masquerades ClusterIP traffic, as kube-proxy's rule (which matches the
 *       ClusterIP) does; external traffic follows its policy: Cluster is masqueraded anyway, Local
 *       keeps the client's address (kube-proxy's Local external chain never marks).</li>
 *   <li>healthCheckNodePorts are answered (LOCAL) on the NodePort addresses, where kube-proxy's
 *       service health server listens.</li>
 *   <li>Only TCP, UDP and SCTP are looked up; other protocols (ICMP to a ClusterIP included) pass.</li>
 *   <li>Two service ports claiming one (address, protocol, port) fail compilation, naming both;
 *       one port listing an address twice, and the ports of one service sharing their
 *       healthCheckNodePort, are accepted.</li>
 * </ul>
 */
package dev.ferry.dataplane.service;
