package org.postern.smtp.plugin.uribl.internal;

import java.util.Arrays;
import java.util.Optional;

/** What a listed URI does to its message: qpsmtpd's {@code action} values. */
enum Action {
    ADD_HEADER("add-header"),
    DENY("deny"),
    DENYSOFT("denysoft"),
    LOG("log");

    private final String option;

    Action(String option) {
        this.option = option;
    }

    /** The action an option value names, as qpsmtpd spells it (lower case); empty for anything else. */
    static Optional<Action> named(String option) {
        return Arrays.stream(values()).filter(action -> action.option.equals(option)).findFirst();
    }

    @Override
    public String toString() {
        return option;
    }
}
