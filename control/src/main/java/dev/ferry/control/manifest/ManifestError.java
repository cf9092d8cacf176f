package dev.ferry.control.manifest;

/**
 * One rejected object or unreadable file. Printed as
 * "services.yaml: Service default/web: spec.ports[0].port: 70000 is not a port (1-65535)".
 *
 * @param file    the file, or the path given by the user
 * @param object  "Service default/web", or null when the whole file is at fault
 * @param field   the field's path, or null when no single field is at fault
 * @param problem what is wrong
 */
public record ManifestError(String file, String object, String field, String problem) {
    @Override
    public String toString() {
        final StringBuilder text = new StringBuilder(file);
        if (object != null) {
            text.append(": ").append(object);
        }
        if (field != null && !field.isEmpty()) {
            text.append(": ").append(field);
        }
        return text.append(": ").append(problem).toString();
    }
}
