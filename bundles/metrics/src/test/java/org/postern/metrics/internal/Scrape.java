package org.postern.metrics.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A scrape in Prometheus' text format, read back: each series with its value. */
final class Scrape {
    final String text;
    final Map<String, Double> series = new LinkedHashMap<>();

    Scrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int space = line.lastIndexOf(' ');
                series.put(line.substring(0, space), Double.valueOf(line.substring(space + 1)));
            }
        }
    }

    /** The value of one series, given as the scrape writes it: {@code name{label="value",...}}. */
    double value(String name) {
        assertTrue(series.containsKey(name), () -> "no series " + name + " in\n" + text);
        return series.get(name);
    }

    /** The series whose names start so: a metric's series, or one series' buckets. */
    List<String> named(String prefix) {
        return series.keySet().stream().filter(name -> name.startsWith(prefix)).toList();
    }
}
