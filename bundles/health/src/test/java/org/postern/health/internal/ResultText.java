package org.postern.health.internal;

import java.util.ArrayList;
import java.util.List;
import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;

/** A result as a person reads it in hc:exec: its status, then each entry with its own. */
final class ResultText {
    private ResultText() {
    }

    static String of(Result result) {
        List<String> entries = new ArrayList<>();
        for (ResultLog.Entry entry : result) {
            entries.add(entry.getStatus() + " " + entry.getMessage());
        }
        return result.getStatus() + " [" + String.join(" | ", entries) + "]";
    }
}
