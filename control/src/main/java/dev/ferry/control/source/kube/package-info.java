/**
 * The Kubernetes API as the agent's source of Services, read as kube-proxy reads it
 * (docs/KUBERNETES.md).
 *
 * <p>{@link dev.ferry.control.source.kube.KubeApi} connects (a kubeconfig, or the pod's service account);
 * {@link dev.ferry.control.source.kube.NodeDefaults} fills the node config from this node's Node;
 * {@link dev.ferry.control.source.kube.KubeStateSource} watches Services, EndpointSlices, the Node and
 * the cluster's ServiceCIDRs (its service ranges, beside the node config's) with fabric8 informers, converts them into control's model ({@code ApiObjects}) and compiles them
 * with the {@link dev.ferry.control.compile.ServicePortCompiler} that serves manifests, so both
 * sources mean the same by every field; it also tells the agent's
 * {@link dev.ferry.control.health.SyncTracker} when the API server is out of reach and when the
 * node stops being eligible. {@link dev.ferry.control.health.ServiceHealthServer} answers load
 * balancers on each healthCheckNodePort, in either mode.
 */
package dev.ferry.control.source.kube;
