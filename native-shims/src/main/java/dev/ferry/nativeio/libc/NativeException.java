package dev.ferry.nativeio.libc;

/**
 * A failed control-path system call: names the call (with the request it carried, such as
 * {@code ioctl(TUNSETIFF)} or {@code RTM_NEWROUTE 10.96.0.0/12 dev ferry0}) and the errno,
 * e.g. {@code ioctl(TUNSETIFF): EPERM (Operation not permitted)}. Hot paths never throw this;
 * they return {@code -errno}.
 */
public class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public NativeException(String call, int errno) {
        this(call, errno, null);
    }

    /** {@code detail} is extra text from the kernel (a netlink extended ack), or null. */
    public NativeException(String call, int errno, String detail) {
        super(call + ": " + Errno.describe(errno) + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.call = call;
        this.errno = errno;
    }

    /** The call and request, e.g. {@code ioctl(TUNSETIFF)}. */
    public String call() {
        return call;
    }

    /** The positive errno value. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno name, e.g. {@code EPERM}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
