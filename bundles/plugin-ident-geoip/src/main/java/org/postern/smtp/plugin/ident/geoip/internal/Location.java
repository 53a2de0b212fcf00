package org.postern.smtp.plugin.ident.geoip.internal;

import java.util.Map;
import java.util.Optional;

/** What a database record tells of an address: the parts qpsmtpd's notes take, each where the record has it. */
record Location(Optional<String> countryCode, Optional<String> countryName, Optional<String> continentCode,
        Optional<String> city, Optional<Coordinates> coordinates) {

    /** qpsmtpd's radius of the earth, taken as a sphere: the equatorial one, in km. */
    static final double EARTH_RADIUS_KM = 6378;

    /** A point on the earth, in degrees. */
    record Coordinates(double latitude, double longitude) {
        /**
         * qpsmtpd's distance: Math::Trig's great_circle_distance over (longitude, 90° − latitude), computed in the
         * same steps so that it rounds alike, and rounded as Perl's {@code sprintf("%.0f")}, halves to even.
         */
        int kilometresTo(Coordinates other) {
            double latitude0 = Math.PI / 2 - Math.toRadians(90 - latitude);
            double latitude1 = Math.PI / 2 - Math.toRadians(90 - other.latitude);
            double cosine = Math.cos(latitude0) * Math.cos(latitude1)
                    * Math.cos(Math.toRadians(longitude) - Math.toRadians(other.longitude))
                    + Math.sin(latitude0) * Math.sin(latitude1);
            // Math::Trig's acos_real: rounding may push the cosine of a tiny or antipodal angle past ±1
            double angle = cosine >= 1 ? 0 : cosine <= -1 ? Math.PI : Math.acos(cosine);
            return (int) Math.rint(EARTH_RADIUS_KM * angle);
        }
    }

    /**
     * Reads a record of MaxMind's GeoIP2/GeoLite2 City or Country schema, which DB-IP's lite databases share; the
     * names are the English ones, as qpsmtpd's legacy databases had only those.
     */
    static Location of(Map<?, ?> record) {
        Optional<Double> latitude = number(record, "location", "latitude");
        Optional<Double> longitude = number(record, "location", "longitude");
        return new Location(text(record, "country", "iso_code"), text(record, "country", "names", "en"),
                text(record, "continent", "code"), text(record, "city", "names", "en"),
                latitude.flatMap(lat -> longitude.map(lon -> new Coordinates(lat, lon))));
    }

    private static Optional<String> text(Map<?, ?> record, String... path) {
        return value(record, path).filter(String.class::isInstance).map(String.class::cast).filter(text -> !text.isEmpty());
    }

    private static Optional<Double> number(Map<?, ?> record, String... path) {
        return value(record, path).filter(Number.class::isInstance).map(number -> ((Number) number).doubleValue());
    }

    private static Optional<Object> value(Map<?, ?> record, String... path) {
        Object value = record;
        for (String key : path) {
            if (!(value instanceof Map<?, ?> map)) {
                return Optional.empty();
            }
            value = map.get(key);
        }
        return Optional.ofNullable(value);
    }
}
