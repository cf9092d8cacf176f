package dev.ferry.control.admin;

import dev.ferry.control.health.Histogram;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PrometheusTextTest {
    @Test
    void shouldWriteBucketBoundsAsKubeProxyDoes() {
        assertEquals("16.384", PrometheusText.number(Histogram.syncDurationBuckets().upperBound(14)));
        assertEquals("1", PrometheusText.number(1.0));
    }
}
