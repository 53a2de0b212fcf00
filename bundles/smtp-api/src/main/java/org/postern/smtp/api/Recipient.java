package org.postern.smtp.api;

import java.util.Map;
import java.util.Objects;

/** An accepted recipient with the ESMTP parameters of its RCPT command (names in lower case). */
public record Recipient(Address address, Map<String, String> parameters) {
    public Recipient {
        Objects.requireNonNull(address, "address");
        parameters = Map.copyOf(parameters);
    }
}
