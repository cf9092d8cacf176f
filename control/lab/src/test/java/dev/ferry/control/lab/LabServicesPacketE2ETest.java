package dev.ferry.control.lab;

/** {@link LabServicesE2E} with every agent on the {@code packet} (AF_PACKET veth) port type. */
class LabServicesPacketE2ETest extends LabServicesE2E {
    @Override
    String portType() {
        return "packet";
    }
}
