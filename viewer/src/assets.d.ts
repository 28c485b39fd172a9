/** Stylesheets imported for esbuild to bundle into viewer.css. */
declare module '*.css'
