package dev.ferry.control.manifest;

import dev.ferry.control.tree.Field;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * The API server's name rules (k8s.io/apimachinery/pkg/util/validation): RFC 1035 labels for
 * Service names, RFC 1123 labels for namespaces and port names, RFC 1123 subdomains for the
 * names of other objects, IANA service names for container ports, and label keys and values.
 * Each check throws naming the field and the rule, so that a user can fix the value.
 */
final class Names {
    private static final int LABEL_MAX = 63;
    private static final int SUBDOMAIN_MAX = 253;
    private static final Pattern RFC_1035_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern RFC_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern RFC_1123_SUBDOMAIN =
        Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final Pattern IANA_SVC_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final int IANA_SVC_NAME_MAX = 15;
    private static final Pattern LABEL_PART = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");

    static final String RFC_1035_RULE =
        "an RFC 1035 label: at most 63 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit";
    static final String RFC_1123_RULE =
        "an RFC 1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit";
    static final String SUBDOMAIN_RULE =
        "an RFC 1123 subdomain: at most 253 lower-case letters, digits, '-' and '.', each part starting and ending with a letter or digit";
    static final String IANA_RULE =
        "at most 15 lower-case letters, digits and '-', with at least one letter and no '--'";

    private Names() {
    }

    static boolean isRfc1035Label(final String text) {
        return text.length() <= LABEL_MAX && RFC_1035_LABEL.matcher(text).matches();
    }

    static boolean isRfc1123Label(final String text) {
        return text.length() <= LABEL_MAX && RFC_1123_LABEL.matcher(text).matches();
    }

    static boolean isSubdomain(final String text) {
        return text.length() <= SUBDOMAIN_MAX && RFC_1123_SUBDOMAIN.matcher(text).matches();
    }

    static boolean isIanaServiceName(final String text) {
        return text.length() <= IANA_SVC_NAME_MAX && IANA_SVC_NAME.matcher(text).matches() && !text.contains("--")
            && text.chars().anyMatch(c -> c >= 'a' && c <= 'z');
    }

    /**
     * A hostname (an endpoint's hostname, a pod's spec.hostname or spec.subdomain): an RFC 1123
     * label, the API server's rule and what one DNS label can hold; null when absent or empty.
     */
    static String hostname(final Field field) {
        if (!field.isPresent() || field.text().isEmpty()) {
            return null;
        }
        if (!isRfc1123Label(field.text())) {
            throw field.error("'" + field.text() + "' is not " + RFC_1123_RULE);
        }
        return field.text();
    }

    /** metadata.name of {@code kind}: an RFC 1035 label for Services, an RFC 1123 subdomain otherwise. */
    static void checkObjectName(final Field field, final String kind, final String name) {
        if (ManifestReader.SERVICE.equals(kind)) {
            if (!isRfc1035Label(name)) {
                throw field.error("'" + name + "' is not a valid Service name: it must be " + RFC_1035_RULE);
            }
        } else if (!isSubdomain(name)) {
            throw field.error("'" + name + "' is not a valid " + kind + " name: it must be " + SUBDOMAIN_RULE);
        }
    }

    static void checkNamespace(final Field field, final String namespace) {
        if (!isRfc1123Label(namespace)) {
            throw field.error("'" + namespace + "' is not a valid namespace: it must be " + RFC_1123_RULE);
        }
    }

    /** A map of label keys to values (metadata.labels, spec.selector); absent means empty. */
    static Map<String, String> labels(final Field field) {
        final Map<String, String> labels = field.textMap();
        for (final Map.Entry<String, String> label : labels.entrySet()) {
            final Field entry = field.getKeyed(label.getKey());
            checkLabelKey(entry, label.getKey());
            if (label.getValue().length() > LABEL_MAX || !label.getValue().isEmpty() && !LABEL_PART.matcher(label.getValue()).matches()) {
                throw entry.error("'" + label.getValue() + "' is not a valid label value: at most 63 letters, digits, '-', '_' "
                    + "and '.', starting and ending with a letter or digit");
            }
        }
        return labels;
    }

    private static void checkLabelKey(final Field entry, final String key) {
        final int slash = key.indexOf('/');
        final String prefix = slash < 0 ? null : key.substring(0, slash);
        final String name = slash < 0 ? key : key.substring(slash + 1);
        if (prefix != null && !isSubdomain(prefix)) {
            throw entry.error("'" + key + "' is not a valid label key: its prefix '" + prefix + "' must be " + SUBDOMAIN_RULE);
        }
        if (name.length() > LABEL_MAX || !LABEL_PART.matcher(name).matches()) {
            throw entry.error("'" + key + "' is not a valid label key: the name after the optional 'prefix/' must be at most 63 "
                + "letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
        }
    }
}
