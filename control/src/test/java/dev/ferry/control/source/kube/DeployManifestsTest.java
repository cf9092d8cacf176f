package dev.ferry.control.source.kube;

import dev.ferry.control.admin.AgentPaths;
import dev.ferry.control.cli.FerryCli;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deployment manifests in docs/deploy are valid Kubernetes objects: read with fabric8's own
 * model classes (a misspelt field would land in additionalProperties, an unknown kind would not
 * become its typed class), and what they say fits the agent: the role grants what the source
 * watches, the DaemonSet's arguments parse as {@code ferry agent} flags, its paths and port are
 * the agent's defaults.
 */
class DeployManifestsTest {
    private static final Path DEPLOY = Path.of("..", "docs", "deploy");
    private final KubernetesSerialization serialization = new KubernetesSerialization();

    private List<KubernetesResource> load(final String file) throws Exception {
        final Object read;
        try (InputStream in = Files.newInputStream(DEPLOY.resolve(file))) {
            read = serialization.unmarshal(in);
        }
        final List<KubernetesResource> objects = new ArrayList<>();
        if (read instanceof List<?> list) {
            list.forEach(o -> objects.add((KubernetesResource) o));
        } else {
            objects.add((KubernetesResource) read);
        }
        final List<String> unknown = new ArrayList<>();
        for (final KubernetesResource object : objects) {
            unknownFields(object, object.getClass().getSimpleName(), unknown);
        }
        assertEquals(List.of(), unknown, file + ": fields the Kubernetes API does not have");
        return objects;
    }

    /** Every field the model classes did not recognise, by path. */
    private static void unknownFields(final Object value, final String path, final List<String> unknown) throws Exception {
        if (value == null) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (final Object item : items) {
                unknownFields(item, path + "[" + i++ + "]", unknown);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (final Map.Entry<?, ?> entry : map.entrySet()) {
                unknownFields(entry.getValue(), path + "." + entry.getKey(), unknown);
            }
            return;
        }
        if (!value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (final Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers()) || !getter.getName().startsWith("get")
                || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            final Object field;
            try {
                field = getter.invoke(value);
            } catch (final InvocationTargetException e) {
                continue;
            }
            if ("getAdditionalProperties".equals(getter.getName())) {
                if (field instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    unknown.add(path + ": " + extra.keySet());
                }
            } else {
                unknownFields(field, path + "." + getter.getName().substring(3, 4).toLowerCase() + getter.getName().substring(4),
                    unknown);
            }
        }
    }

    @Test
    void shouldGrantExactlyWhatTheSourceWatches() throws Exception {
        final List<KubernetesResource> objects = load("rbac.yaml");
        assertEquals(3, objects.size());
        final ServiceAccount account = assertInstanceOf(ServiceAccount.class, objects.get(0));
        final ClusterRole role = assertInstanceOf(ClusterRole.class, objects.get(1));
        final ClusterRoleBinding binding = assertInstanceOf(ClusterRoleBinding.class, objects.get(2));

        final Set<String> granted = role.getRules().stream()
            .flatMap(rule -> rule.getApiGroups().stream().flatMap(group -> rule.getResources().stream()
                .flatMap(resource -> rule.getVerbs().stream().map(verb -> group + "/" + resource + ":" + verb))))
            .collect(Collectors.toSet());
        final Set<String> needed = Set.of("/services:get", "/services:list", "/services:watch", "/nodes:get", "/nodes:list",
            "/nodes:watch", "discovery.k8s.io/endpointslices:get", "discovery.k8s.io/endpointslices:list",
            "discovery.k8s.io/endpointslices:watch", "networking.k8s.io/servicecidrs:list", "networking.k8s.io/servicecidrs:watch");
        assertEquals(needed, granted, "read access to what the informers and the node lookup use, and nothing more");
        assertTrue(role.getRules().stream().map(PolicyRule::getVerbs).flatMap(List::stream)
            .noneMatch(v -> Set.of("create", "update", "patch", "delete", "*").contains(v)), "the agent writes nothing");

        assertEquals("rbac.authorization.k8s.io", binding.getRoleRef().getApiGroup());
        assertEquals("ClusterRole", binding.getRoleRef().getKind());
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        assertEquals(1, binding.getSubjects().size());
        assertEquals("ServiceAccount", binding.getSubjects().getFirst().getKind());
        assertEquals(account.getMetadata().getName(), binding.getSubjects().getFirst().getName());
        assertEquals(account.getMetadata().getNamespace(), binding.getSubjects().getFirst().getNamespace());
    }

    @Test
    void shouldRunTheAgentOnTheHostNetworkOfEveryNode() throws Exception {
        final List<KubernetesResource> objects = load("daemonset.yaml");
        assertEquals(1, objects.size());
        final DaemonSet daemonSet = assertInstanceOf(DaemonSet.class, objects.getFirst());
        final ServiceAccount account = (ServiceAccount) load("rbac.yaml").getFirst();
        assertEquals(account.getMetadata().getNamespace(), daemonSet.getMetadata().getNamespace());
        assertEquals(daemonSet.getSpec().getSelector().getMatchLabels(), daemonSet.getSpec().getTemplate().getMetadata().getLabels(),
            "the selector matches the pods");

        final PodSpec pod = daemonSet.getSpec().getTemplate().getSpec();
        assertEquals(account.getMetadata().getName(), pod.getServiceAccountName());
        assertTrue(pod.getHostNetwork(), "the agent works in the node's network namespace");
        assertEquals("Default", pod.getDnsPolicy(), "not the cluster DNS, which is a Service this agent serves");
        assertTrue(pod.getTolerations().stream().anyMatch(t -> "Exists".equals(t.getOperator()) && t.getKey() == null),
            "every node, tainted ones too");

        final Container agent = pod.getContainers().getFirst();
        assertTrue(agent.getSecurityContext().getPrivileged(), "net sysctls need a writable /proc/sys");
        assertTrue(agent.getSecurityContext().getCapabilities().getAdd().containsAll(List.of("NET_ADMIN", "NET_RAW")));

        final List<String> args = agent.getArgs().stream().map(a -> a.replace("$(NODE_NAME)", "node-1")).toList();
        assertEquals("agent", args.getFirst());
        final CommandLine.ParseResult parsed = FerryCli.commandLine().parseArgs(args.toArray(String[]::new));
        final CommandLine.ParseResult command = parsed.subcommand();
        assertEquals("agent", command.commandSpec().name(), "the arguments parse as ferry agent flags");
        assertTrue(!command.hasMatchedOption("--manifests") && !command.hasMatchedOption("--kubeconfig"),
            "the API source with the pod's service account (in-cluster config)");
        assertTrue(command.hasMatchedOption("--service-cidr"), "the service ranges from the start: the floor the cluster's ServiceCIDRs add to");

        final Map<String, EnvVar> env = agent.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
        assertEquals("spec.nodeName", env.get("NODE_NAME").getValueFrom().getFieldRef().getFieldPath());
        assertTrue(env.containsKey("KUBERNETES_SERVICE_HOST") && env.containsKey("KUBERNETES_SERVICE_PORT"),
            "in-cluster config pointed at the API server itself, not at the kubernetes Service's ClusterIP");

        final String healthz = command.matchedOption("--healthz-bind-address").getValue();
        assertEquals(healthz.substring(healthz.lastIndexOf(':') + 1),
            agent.getLivenessProbe().getHttpGet().getPort().getIntVal().toString());
        assertEquals("/livez", agent.getLivenessProbe().getHttpGet().getPath(),
            "liveness on /livez: /healthz fails while the API server is away, and a restart would not help");

        final Map<String, String> mounts = agent.getVolumeMounts().stream()
            .collect(Collectors.toMap(VolumeMount::getMountPath, VolumeMount::getName));
        final Map<String, String> hostPaths = pod.getVolumes().stream().filter(v -> v.getHostPath() != null)
            .collect(Collectors.toMap(v -> v.getName(), v -> v.getHostPath().getPath()));
        for (final Path dir : List.of(AgentPaths.DEFAULT_RUN_DIR, AgentPaths.DEFAULT_STATE_DIR)) {
            final String volume = mounts.get(dir.toString());
            assertEquals(dir.toString(), hostPaths.get(volume), dir + " is the host's, so it outlives the container");
        }
    }
}
