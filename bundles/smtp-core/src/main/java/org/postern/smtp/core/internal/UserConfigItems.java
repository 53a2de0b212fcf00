package org.postern.smtp.core.internal;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.postern.smtp.api.Address;

/** Looks a user's config item up in the {@link UserConfigEntry} configurations: the user's own, then its domain's. */
@Component(service = UserConfigItems.class)
public final class UserConfigItems {
    private final List<UserConfigEntry> entries = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addEntry(UserConfigEntry entry) {
        entries.add(entry);
    }

    void removeEntry(UserConfigEntry entry) {
        entries.remove(entry);
    }

    public List<String> get(Address user, String item) {
        String address = user.address().toLowerCase(Locale.ROOT);
        String domain = user.normalizedHost().orElse("");
        List<String> best = List.of();
        int bestSpecificity = 0;
        for (UserConfigEntry entry : entries) {
            int specificity = entry.specificity(address, domain);
            List<String> values = specificity > bestSpecificity ? entry.get(item) : List.of();
            if (!values.isEmpty()) {
                best = values;
                bestSpecificity = specificity;
            }
        }
        return best;
    }
}
