package dev.ferry.control.lab;

import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code ferry lab demo}: being written. */
@Command(name = "demo", description = "The lab demo (being written).")
final class LabDemo implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("ferry lab demo: not written yet");
        return 1;
    }
}
