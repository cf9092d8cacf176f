package dev.ferry.control.config;

import java.util.List;

/**
 * A node config file that cannot be used. Every problem found is listed, each naming the file
 * and the field, so that one run reports them all.
 */
public final class NodeConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public NodeConfigException(final List<String> problems) {
        super(String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    /** One line per problem, each "file: field: what is wrong". */
    public List<String> problems() {
        return problems;
    }
}
