package dev.ferry.control.lab;

/** {@link LabServicesE2E} with every agent on the {@code tun} port type. */
class LabServicesTunE2ETest extends LabServicesE2E {
    @Override
    String portType() {
        return "tun";
    }
}
