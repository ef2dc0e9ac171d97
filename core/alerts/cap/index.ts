/**
 * CAP 1.2 (OASIS Common Alerting Protocol): the model (one TypeBox schema), the XML serializer and parser, validation
 * against the official XSD, profiles (rules beyond the XSD) and helpers for resources and areas. No Node-RED here.
 */
export * from './model';
export { formatCapTime, parseCapTime, type CapTime } from './time';
export { CapError, describeProblem, type CapProblem, type CapRefusal } from './problems';
export { checkCapModel, serializeCap } from './serialize';
export { parseCap, validateCapXml } from './parse';
export { CAP_MAX_BYTES, guardCapInput } from './guard';
export { capResourceDigest, resourceFor, type ResourceInput } from './resources';
export { circleText, polygonText, type LatLon } from './areas';
export { CAP_PROFILES, checkCapProfile, checkIpaws1, checkOasisStrict, ipaws1, oasisStrict, type CapProfile, type CapProfileResult } from './profiles';
